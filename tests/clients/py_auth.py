"""Drive the gateway with the official Python SDK (PyPI `mcp` 2.x) carrying a bearer token.

usage: py_auth.py URL TOKEN ACTIONS_JSON
ACTIONS_JSON is a list of ["list"] or ["call", TOOL, ARGS]. Prints one JSON list: for "list"
the tool names, for "call" {"ok", "text"} or, for a JSON-RPC error, {"code", "message"}.
"""
import asyncio
import json
import sys

from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError


async def main(url, token, actions):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    out = []
    async with create_mcp_http_client(headers=headers) as http:
        async with Client(streamable_http_client(url, http_client=http)) as client:
            for action in actions:
                if action[0] == "list":
                    tools = await client.list_tools()
                    out.append(sorted(t.name for t in tools.tools))
                    continue
                _, name, args = action
                try:
                    r = await client.call_tool(name, args)
                    texts = [c.text for c in r.content if getattr(c, "type", "") == "text"]
                    out.append({"ok": not r.is_error, "text": "\n".join(texts)})
                except MCPError as e:
                    out.append({"code": e.code, "message": e.message})
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], json.loads(sys.argv[3])))

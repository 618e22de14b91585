"""Drive the gateway's stdio face (`switchboard stdio`) with the Python SDK in a given mode.

usage: py_stdio.py SWITCHBOARD CONFIG MODE TOOL JSON_ARGS     (MODE: legacy | auto)
Prints one JSON object: the negotiated version, the questions asked, and the call's text.
"""
import asyncio
import json
import sys

import mcp.types as types
from mcp import Client
from mcp.client.stdio import StdioServerParameters


async def main(binary, config, mode, tool, args):
    asked = []

    async def on_elicitation(context, params):
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"name": "Ada"})

    server = StdioServerParameters(command=binary, args=["stdio", "--config", config])
    async with Client(server, mode=mode, elicitation_callback=on_elicitation) as c:
        r = await c.call_tool(tool, json.loads(args))
        texts = [x.text for x in r.content if getattr(x, "type", "") == "text"]
        print(json.dumps({"version": c.session.protocol_version, "asked": asked,
                          "is_error": bool(r.is_error), "text": "\n".join(texts)}))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))

"""Drive the gateway with the official Python SDK (PyPI `mcp` 2.x) in its default mode.

usage: py_client.py URL [TOOL JSON_ARGS]...
Prints one JSON object: negotiated version, listed tool names, and each call's outcome.
"""
import asyncio
import json
import sys

from mcp import Client


async def main(url, calls):
    out = {"calls": []}
    async with Client(url) as client:
        out["version"] = client.session.protocol_version
        tools = await client.list_tools()
        out["tools"] = [t.name for t in tools.tools]
        for name, args in calls:
            r = await client.call_tool(name, args)
            texts = [c.text for c in r.content if getattr(c, "type", "") == "text"]
            out["calls"].append({"name": name, "is_error": bool(r.is_error), "text": "\n".join(texts)})
    print(json.dumps(out))


if __name__ == "__main__":
    url = sys.argv[1]
    rest = sys.argv[2:]
    calls = [(rest[i], json.loads(rest[i + 1])) for i in range(0, len(rest), 2)]
    asyncio.run(main(url, calls))

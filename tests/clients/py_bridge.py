"""Call a tool whose upstream asks the user a question, in either protocol generation.

usage: py_bridge.py URL MODE TOOL      (MODE: legacy | auto)
Prints one JSON object: the negotiated version, the questions asked, and the tool's text.
"""
import asyncio
import json
import sys

import mcp.types as types
from mcp import Client


async def main(url, mode, tool):
    asked = []

    async def on_elicitation(context, params):
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"name": "Ada"})

    async with Client(url, mode=mode, elicitation_callback=on_elicitation) as c:
        r = await c.call_tool(tool, {})
        texts = [x.text for x in r.content if getattr(x, "type", "") == "text"]
        print(json.dumps({"version": c.session.protocol_version, "asked": asked,
                          "is_error": bool(r.is_error), "text": "\n".join(texts)}))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))

"""Answer the conformance reference server's questions through the gateway with the official
Python SDK: sampling and elicitation (sent by the upstream outside the tool call's stream), and a
resource subscription.

usage: py_reference.py URL
Prints one JSON object: each tool's text, and what was asked.
"""
import asyncio
import json
import sys

import mcp.types as types
from mcp import Client


async def main(url):
    asked = []

    async def on_sampling(context, params):
        asked.append("sampling")
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text="sampled by the Python client"),
            model="test-model",
            stopReason="endTurn",
        )

    async def on_elicitation(context, params):
        asked.append("elicitation")
        return types.ElicitResult(action="accept", content={"username": "ada", "email": "ada@example.org"})

    out = {}
    async with Client(url, sampling_callback=on_sampling, elicitation_callback=on_elicitation, mode="legacy") as c:
        for name, args in [
            ("test_sampling", {"prompt": "say hi"}),
            ("test_elicitation", {"message": "who are you?"}),
            ("test_elicitation_sep1034_defaults", {}),
            ("test_elicitation_sep1330_enums", {}),
        ]:
            r = await c.call_tool(name, args)
            out[name] = r.content[0].text
        await c.subscribe_resource("test://watched-resource")
        out["subscribed"] = True
    out["asked"] = asked
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))

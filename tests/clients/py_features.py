"""Exercise the whole surface through the gateway with the official Python SDK (PyPI `mcp` 2.x):
resources, prompts, progress, and server-to-client sampling and elicitation answered here.

usage: py_features.py URL PREFIX      (PREFIX: the exposed prefix of a server-everything upstream)
Prints one JSON object describing what happened.
"""
import asyncio
import json
import sys

import mcp.types as types
from mcp import Client


async def main(url, prefix):
    out = {}
    asked = {"sampling": [], "elicitation": []}

    async def on_sampling(context, params):
        asked["sampling"].append(params.messages[0].content.text)
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text="sampled by the test client"),
            model="test-model",
            stopReason="endTurn",
        )

    async def on_elicitation(context, params):
        asked["elicitation"].append(params.message)
        return types.ElicitResult(action="accept", content={"name": "Ada", "color": "red"})

    async with Client(url, sampling_callback=on_sampling, elicitation_callback=on_elicitation) as c:
        # Conditional tools (sampling, elicitation) appear after the upstream learns our capabilities.
        for _ in range(50):
            names = [t.name for t in (await c.list_tools()).tools]
            if f"{prefix}trigger-sampling-request" in names:
                break
            await asyncio.sleep(0.1)
        out["tools"] = names
        out["version"] = c.session.protocol_version

        resources = (await c.list_resources()).resources
        out["resources"] = [r.uri for r in resources][:5]
        first = str(resources[0].uri)
        read = await c.read_resource(first)
        out["read"] = {"uri": first, "contents": len(read.contents)}
        templates = (await c.list_resource_templates()).resource_templates
        out["templates"] = [t.uri_template for t in templates]

        prompts = (await c.list_prompts()).prompts
        out["prompts"] = [p.name for p in prompts]
        got = await c.get_prompt(f"{prefix}simple-prompt")
        out["prompt_messages"] = len(got.messages)

        progress = []

        async def on_progress(p, total, message):
            progress.append(p)

        r = await c.call_tool(
            f"{prefix}trigger-long-running-operation", {"duration": 1, "steps": 4}, progress_callback=on_progress
        )
        out["long_running"] = {"is_error": bool(r.is_error), "progress": progress}

        r = await c.call_tool(f"{prefix}trigger-sampling-request", {"prompt": "say hi", "maxTokens": 10})
        out["sampling"] = {"is_error": bool(r.is_error), "text": json.dumps([c.model_dump() for c in r.content])}

        r = await c.call_tool(f"{prefix}trigger-elicitation-request", {})
        out["elicitation"] = {"is_error": bool(r.is_error), "text": json.dumps([c.model_dump() for c in r.content])}
    out["asked"] = asked
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))

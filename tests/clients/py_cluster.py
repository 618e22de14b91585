"""One whole session of the Python SDK (PyPI `mcp` 2.x, the initialize generation) through a
load balancer over several gateway replicas, so that any request may land on any of them: list,
calls to a shared upstream and to a per-session memory server, progress, a sampling request the
client answers, a changed tool list, and the session's end (DELETE, sent on close).

usage: py_cluster.py URL
Prints one JSON object: what the session saw.
"""
import asyncio
import json
import sys

import mcp.types as types
from mcp import Client


def text(result):
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


async def main(url):
    seen = {"sampling": [], "progress": [], "list_changed": 0, "logs": []}

    async def on_sampling(context, params):
        seen["sampling"].append(params.messages[0].content.text)
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(type="text", text="sampled by the client"), model="m", stopReason="endTurn"
        )

    async def on_log(params):
        seen["logs"].append(str(params.data))

    async def on_message(message):
        root = getattr(message, "root", message)
        if isinstance(root, types.ToolListChangedNotification) or getattr(root, "method", None) == "notifications/tools/list_changed":
            seen["list_changed"] += 1

    async def on_progress(p, total, message):
        seen["progress"].append(p)

    out = {}
    async with Client(
        url, mode="legacy", sampling_callback=on_sampling, logging_callback=on_log, message_handler=on_message
    ) as c:
        out["tools"] = sorted(t.name for t in (await c.list_tools()).tools)
        out["echoes"] = [text(await c.call_tool("everything__echo", {"message": f"echo {i}"})) for i in range(6)]
        entity = {"name": "switchboard", "entityType": "project", "observations": ["runs on three replicas"]}
        await c.call_tool("mem__create_entities", {"entities": [entity]})
        out["graphs"] = [text(await c.call_tool("mem__read_graph", {})) for _ in range(6)]
        r = await c.call_tool(
            "everything__trigger-long-running-operation", {"duration": 1, "steps": 3}, progress_callback=on_progress
        )
        out["long_running_error"] = bool(r.is_error)
        out["sampled"] = text(await c.call_tool("everything__trigger-sampling-request", {"prompt": "hello from a replica", "maxTokens": 5}))
        await c.call_tool("conf__test_change_tools", {})
        for _ in range(100):
            if seen["list_changed"]:
                break
            await asyncio.sleep(0.05)
        out["tools_after"] = sorted(t.name for t in (await c.list_tools()).tools)
    out.update(seen)
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))

"""Two sessions at once through the gateway: each sees only its own progress, log messages and
server-to-client requests, and both hear about a changed tool list.

usage: py_isolation.py URL
Prints one JSON object per session.
"""
import asyncio
import json
import sys

import mcp.types as types
from mcp import Client


async def session(url, name, steps, barrier, changed):
    seen = {"sampling": [], "logs": [], "progress": [], "list_changed": 0}

    async def on_sampling(context, params):
        seen["sampling"].append(params.messages[0].content.text)
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(type="text", text=f"answer from {name}"), model="m", stopReason="endTurn"
        )

    async def on_log(params):
        seen["logs"].append(params.logger)

    async def on_message(message):
        if isinstance(message, types.ServerNotification) and isinstance(message, types.ToolListChangedNotification):
            seen["list_changed"] += 1
        elif getattr(message, "method", None) == "notifications/tools/list_changed":
            seen["list_changed"] += 1

    # Sessions, setLevel and per-session upstream connections belong to the initialize generation
    # (2026-07-28 is stateless): this client speaks it on purpose.
    async with Client(
        url, mode="legacy", sampling_callback=on_sampling, logging_callback=on_log, message_handler=on_message
    ) as c:
        await c.set_logging_level("debug")
        for _ in range(50):
            names = [t.name for t in (await c.list_tools()).tools]
            if "evhttp__trigger-sampling-request" in names and "mem__trigger-sampling-request" in names:
                break
            await asyncio.sleep(0.1)
        await barrier.wait()

        async def on_progress(p, total, message):
            seen["progress"].append(p)

        # Same request ids and progress tokens in both sessions, at the same time.
        results = await asyncio.gather(
            c.call_tool("evhttp__trigger-long-running-operation", {"duration": 1, "steps": steps}, progress_callback=on_progress),
            c.call_tool("evhttp__trigger-sampling-request", {"prompt": f"shared server asks {name}", "maxTokens": 5}),
            c.call_tool("mem__trigger-sampling-request", {"prompt": f"private server asks {name}", "maxTokens": 5}),
            c.call_tool("conf__test_tool_with_logging", {}),
        )
        texts = [json.dumps([x.model_dump() for x in r.content]) for r in results]
        errors = [bool(r.is_error) for r in results]
        await asyncio.sleep(0.5)  # let notifications of the calls above settle
        await barrier.wait()
        before = seen["list_changed"]
        await barrier.wait()
        if name == "A":
            # A changes the tool list of a shared upstream; B must hear of it too.
            await c.call_tool("shared__test_change_tools", {})
        for _ in range(50):
            if seen["list_changed"] > before:
                break
            await asyncio.sleep(0.1)
        seen["list_changed"] -= before
        await barrier.wait()
    seen["texts"] = texts
    seen["errors"] = errors
    return seen


async def main(url):
    barrier = asyncio.Barrier(2)
    changed = asyncio.Event()
    a, b = await asyncio.gather(session(url, "A", 3, barrier, changed), session(url, "B", 5, barrier, changed))
    print(json.dumps({"A": a, "B": b}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))

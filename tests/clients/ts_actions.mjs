// Drive the gateway with the official TypeScript SDK client (the initialize generation), the
// same actions as py_auth.py: usage: node ts_actions.mjs URL ACTIONS_JSON
//   (a URL whose path is /sse or /sse/NAME uses the legacy HTTP+SSE transport, else streamable HTTP)
//   (SDK_NODE_MODULES must point at a node_modules with the SDK)
// ACTIONS_JSON is a list of ["list"] or ["call", TOOL, ARGS]. Prints one JSON list: for "list"
// the tool names (sorted), for "call" {"ok", "text"} or, for a JSON-RPC error, {"code", "message"}.
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.SDK_NODE_MODULES ?? ".", "x.js"));
const { Client } = require("@modelcontextprotocol/sdk/client/index.js");
const { StreamableHTTPClientTransport } = require("@modelcontextprotocol/sdk/client/streamableHttp.js");
const { SSEClientTransport } = require("@modelcontextprotocol/sdk/client/sse.js");
const { McpError } = require("@modelcontextprotocol/sdk/types.js");

const [url, actions] = process.argv.slice(2);
const client = new Client({ name: "ts-actions", version: "1.0.0" }, { capabilities: {} });
const legacy = /^\/sse(\/|$)/.test(new URL(url).pathname);
await client.connect(legacy ? new SSEClientTransport(new URL(url)) : new StreamableHTTPClientTransport(new URL(url)));
const out = [];
for (const action of JSON.parse(actions)) {
  if (action[0] === "list") {
    out.push((await client.listTools()).tools.map((t) => t.name).sort());
    continue;
  }
  const [, name, args] = action;
  try {
    const r = await client.callTool({ name, arguments: args });
    out.push({ ok: !r.isError, text: r.content.map((c) => c.text ?? "").join("\n") });
  } catch (e) {
    if (!(e instanceof McpError)) throw e;
    out.push({ code: e.code, message: e.message });
  }
}
await client.close();
console.log(JSON.stringify(out));

// Drive the gateway's /mcp face with the official TypeScript SDK client (the initialize
// generation), answering elicitation requests as a user would.
// usage: node ts_client.mjs MCP_URL TOOL JSON_ARGS [TOOL JSON_ARGS]...
//   (SDK_NODE_MODULES must point at a node_modules with the SDK)
// Prints one JSON object: the negotiated version, the tools, each call's text, the questions asked.
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.SDK_NODE_MODULES ?? ".", "x.js"));
const { Client } = require("@modelcontextprotocol/sdk/client/index.js");
const { StreamableHTTPClientTransport } = require("@modelcontextprotocol/sdk/client/streamableHttp.js");
const { ElicitRequestSchema } = require("@modelcontextprotocol/sdk/types.js");

const [url, ...rest] = process.argv.slice(2);
const asked = [];
const client = new Client({ name: "ts-test", version: "1.0.0" }, { capabilities: { elicitation: {} } });
client.setRequestHandler(ElicitRequestSchema, async (req) => {
  asked.push(req.params.message);
  return { action: "accept", content: { name: "Ada" } };
});
const transport = new StreamableHTTPClientTransport(new URL(url));
await client.connect(transport);
const out = { version: transport.protocolVersion, tools: (await client.listTools()).tools.map((t) => t.name), calls: [] };
for (let i = 0; i < rest.length; i += 2) {
  const r = await client.callTool({ name: rest[i], arguments: JSON.parse(rest[i + 1]) });
  out.calls.push({ name: rest[i], is_error: Boolean(r.isError), text: r.content.map((c) => c.text ?? "").join("") });
}
out.asked = asked;
await client.close();
console.log(JSON.stringify(out));

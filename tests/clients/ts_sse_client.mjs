// Drive the gateway's legacy HTTP+SSE face with the official TypeScript SDK client.
// usage: node ts_sse_client.mjs BASE_URL    (SDK_NODE_MODULES must point at a node_modules with the SDK)
// Prints one JSON object: tools, a tool call, a resource read and a prompt.
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.SDK_NODE_MODULES ?? ".", "x.js"));
const { Client } = require("@modelcontextprotocol/sdk/client/index.js");
const { SSEClientTransport } = require("@modelcontextprotocol/sdk/client/sse.js");

const base = process.argv[2];
const client = new Client({ name: "ts-sse-test", version: "1.0.0" });
await client.connect(new SSEClientTransport(new URL(`${base}/sse`)));
const out = { version: client.getServerVersion()?.name };
out.tools = (await client.listTools()).tools.map((t) => t.name);
const echo = await client.callTool({ name: "everything__echo", arguments: { message: "over legacy SSE" } });
out.echo = echo.content.map((c) => c.text).join("");
const resources = (await client.listResources()).resources;
const read = await client.readResource({ uri: resources[0].uri });
out.read = { uri: resources[0].uri, contents: read.contents.length };
const prompt = await client.getPrompt({ name: "everything__simple-prompt" });
out.prompt = prompt.messages.length;
await client.close();
console.log(JSON.stringify(out));

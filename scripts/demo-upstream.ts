/**
 * A tiny OpenAI-compatible upstream on 127.0.0.1 for trying Ferry with no provider key and
 * no network: `/v1/chat/completions` (plain and SSE) and `/v1/models`. It echoes the last
 * user message, so a round trip is easy to see.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export async function startDemoUpstream(port = 0): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = (req.url ?? "").replace(/^\/demo/, "").split("?")[0];
    if (req.method === "GET" && path === "/v1/models") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ object: "list", data: [{ id: "demo-echo", object: "model", owned_by: "ferry-demo" }] }));
      return;
    }
    if (req.method !== "POST" || path !== "/v1/chat/completions") {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `demo upstream has no ${req.method} ${path}`, type: "not_found" } }));
      return;
    }
    let body: { model?: string; stream?: boolean; messages?: { role: string; content: unknown }[] } = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString() || "{}");
    } catch {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "body is not JSON", type: "invalid_request_error" } }));
      return;
    }
    const last = [...(body.messages ?? [])].reverse().find((m) => m.role === "user");
    const text = `echo: ${typeof last?.content === "string" ? last.content : JSON.stringify(last?.content ?? "")}`;
    const base = { id: "chatcmpl-demo", created: Math.floor(Date.now() / 1000), model: body.model ?? "demo-echo" };
    if (body.stream) {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      for (const word of text.split(/(?<= )/)) {
        res.write(`data: ${JSON.stringify({ ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: word }, finish_reason: null }] })}\n\n`);
        await new Promise((r) => setTimeout(r, 30));
      }
      res.write(`data: ${JSON.stringify({ ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })}\n\n`);
      res.end("data: [DONE]\n\n");
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        ...base,
        object: "chat.completion",
        choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
        usage: { prompt_tokens: 1, completion_tokens: text.split(" ").length, total_tokens: 1 + text.split(" ").length },
      }),
    );
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/demo`, server };
}

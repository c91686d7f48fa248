/** Anthropic Messages surface: /v1/messages, /v1/messages/count_tokens (and /v1/models, see openai.ts). */
import { handleCall } from "../pipeline.ts";
import type { App, GetRuntime } from "./context.ts";
import { splitQuery, clientIp, readJson } from "./request.ts";

export function anthropicRoutes(app: App, runtime: GetRuntime): void {
  for (const [path, endpoint] of [
    ["/v1/messages", "anthropic.messages"],
    ["/v1/messages/count_tokens", "anthropic.count_tokens"],
  ] as const) {
    app.post(path, async (c) => {
      const rt = runtime();
      const body = await readJson(c, "anthropic", rt.config.server.maxBodyBytes);
      if (body instanceof Response) return body;
      return handleCall(rt, {
        dialect: "anthropic",
        endpoint,
        model: typeof body.json.model === "string" ? body.json.model : null,
        stream: body.json.stream === true,
        body: body.json,
        ...splitQuery(c.req.url),
        headers: c.req.raw.headers,
        clientIp: clientIp(c, rt.config.server.trustForwardedFor),
        signal: c.req.raw.signal,
      });
    });
  }
}

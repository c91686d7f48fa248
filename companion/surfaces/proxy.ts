/**
 * `/proxy/{provider}/{path}`: seed 004's pass-through for Java/Spring apps, in the provider's
 * own API, still under project auth, quotas, scrubbing and audit.
 */
import { handleCall } from "../pipeline.ts";
import type { App, GetRuntime } from "./context.ts";
import { splitQuery, clientIp, readBody } from "./request.ts";

export function proxyRoutes(app: App, runtime: GetRuntime): void {
  app.all("/proxy/:pool/*", async (c) => {
    const rt = runtime();
    const pool = c.req.param("pool");
    const dialect = rt.config.edgePools[pool]?.dialect ?? "openai";
    const url = new URL(c.req.url);
    const path = url.pathname.slice(`/proxy/${pool}`.length) || "/";
    const body = c.req.method === "GET" || c.req.method === "HEAD" ? { raw: new Uint8Array(0) } : await readBody(c, dialect, rt.config.server.maxBodyBytes);
    if (body instanceof Response) return body;
    let json: Record<string, unknown> | null = null;
    if (body.raw.byteLength && /json/i.test(c.req.header("content-type") ?? "")) {
      try {
        const parsed: unknown = JSON.parse(new TextDecoder().decode(body.raw));
        if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
      } catch {
        // not JSON after all: forwarded as bytes
      }
    }
    const fromPath = /\/models\/([^/:]+)/.exec(path)?.[1];
    return handleCall(rt, {
      dialect,
      endpoint: "proxy",
      model: typeof json?.model === "string" ? json.model : fromPath ? decodeURIComponent(fromPath) : null,
      stream: json?.stream === true || path.includes(":streamGenerateContent"),
      body: json,
      ...splitQuery(c.req.url),
      headers: c.req.raw.headers,
      clientIp: clientIp(c, rt.config.server.trustForwardedFor),
      signal: c.req.raw.signal,
      proxy: { pool, path, method: c.req.method, raw: body.raw.byteLength ? body.raw : null },
    });
  });
}

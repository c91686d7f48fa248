/**
 * The edge's HTTP surface. Stateless checks happen here (configuration valid, companion
 * known); everything else runs in the companion's Relay, so unknown ids never create one.
 */
import { Hono } from "hono";
import { SIGNING_HEADERS } from "../shared/signing.ts";
import { getConfig } from "./config.ts";
import type { Env } from "./env.ts";
import { edgeError } from "./errors.ts";
import { log } from "./log.ts";

export const app = new Hono<{ Bindings: Env }>();

app.get("/health", async (c) => {
  const config = await getConfig(c.env);
  if (!config.ok) return c.json({ status: "error", config: { valid: false, errors: config.error } }, 503);
  return c.json({ status: "ok", config: { valid: true } });
});

const toRelay = async (c: { env: Env; req: { raw: Request } }): Promise<Response> => {
  const config = await getConfig(c.env);
  if (!config.ok) {
    return edgeError("config_invalid", `edge configuration is invalid: ${config.error.map((e) => `${e.path}: ${e.message}`).join("; ")}`);
  }
  const companionId = c.req.raw.headers.get(SIGNING_HEADERS.companion);
  if (!companionId || !config.value.companions.has(companionId)) return edgeError("unauthorized", "authentication failed");
  const stub = c.env.RELAY.get(c.env.RELAY.idFromName(companionId));
  return stub.fetch(c.req.raw);
};

app.all("/proxy/*", toRelay);
app.get("/tunnel", toRelay);
app.get("/admin/pools", toRelay);
app.get("/admin/tunnels", toRelay);
app.post("/admin/drain", toRelay);

app.notFound(() => edgeError("not_found", "no such route"));
app.onError((error) => {
  log("error", { msg: "unhandled error", error: error instanceof Error ? error.name : "unknown" });
  return edgeError("internal", "internal error");
});

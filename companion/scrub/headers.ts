/**
 * Request headers that leave the office: an allowlist (content-type, accept and the policy's
 * per-dialect list), the gateway's own user-agent, and `anthropic-beta` without the entries that
 * name the client product. Everything else is dropped and reported by name (never by value).
 * Web-standard only: no `node:` imports.
 */
import { matchesGlob } from "../glob.ts";
import type { ScrubContext, ScrubbedHeaders, TargetDialect } from "./types.ts";

const ALWAYS_ALLOWED = ["content-type", "accept"];
/** Project keys: never forwarded, whatever the allowlist says (the edge adds the upstream key). */
const KEY_HEADERS = new Set(["authorization", "x-api-key", "x-goog-api-key"]);
/** Header families reported as one entry (one per value of the family's prefix). */
const GROUPS = ["x-stainless-"];

export function scrubHeaders(inbound: Headers, target: TargetDialect, ctx: ScrubContext): ScrubbedHeaders {
  const allowed = new Set([...ALWAYS_ALLOWED, ...(ctx.policy.allowHeaders[target] ?? []).map((h) => h.toLowerCase())]);
  const headers: [string, string][] = [];
  const removed = new Set<string>();
  const drop = (name: string) => {
    const group = GROUPS.find((prefix) => name.startsWith(prefix));
    removed.add(group ? `${group}*` : name);
  };

  for (const [rawName, value] of inbound) {
    const name = rawName.toLowerCase();
    if (name === "user-agent") {
      if (value !== ctx.gatewayUserAgent) removed.add("user-agent");
      continue;
    }
    if (KEY_HEADERS.has(name) || !allowed.has(name)) {
      drop(name);
      continue;
    }
    if (name === "anthropic-beta") {
      const kept: string[] = [];
      for (const entry of value.split(",").map((e) => e.trim()).filter(Boolean)) {
        const glob = ctx.policy.dropAnthropicBetas.find((g) => matchesGlob(entry, g));
        if (glob === undefined) kept.push(entry);
        else removed.add(`anthropic-beta:${glob}`);
      }
      if (kept.length) headers.push([name, kept.join(",")]);
      else removed.add("anthropic-beta");
      continue;
    }
    headers.push([name, value]);
  }
  headers.push(["user-agent", ctx.gatewayUserAgent]);
  return { headers, removed: [...removed] };
}

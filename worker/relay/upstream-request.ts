/**
 * Builds the request that leaves for one pool member: URL on the member's host, the
 * provider's header allowlist, the member's key. Nothing from the office passes unlisted.
 */
import type { Member, Pool, Settings } from "../config.ts";
import { ALWAYS_DROPPED_RESPONSE_HEADERS, attachKey, PROVIDERS } from "../providers.ts";
import { joinUpstreamUrl } from "../proxy-path.ts";

export interface InboundRequest {
  method: string;
  path: string;
  search: string;
  headers: Headers;
  body: ArrayBuffer | null;
}

export function upstreamUrl(pool: Pool, member: Member, req: InboundRequest): URL | null {
  let path = req.path;
  if (pool.type === "azure-openai" && member.deployments) {
    path = path.replace(/^(\/openai\/deployments\/)([^/]+)/, (_all, head: string, name: string) => head + (member.deployments![name] ?? name));
  }
  const params = new URLSearchParams(req.search);
  for (const name of PROVIDERS[pool.type].dropQuery) params.delete(name);
  if (pool.type === "azure-openai" && member.apiVersion && !params.has("api-version")) params.set("api-version", member.apiVersion);
  const search = params.size ? `?${params}` : "";
  return joinUpstreamUrl(member.baseUrl, path, search);
}

export function upstreamHeaders(pool: Pool, member: Member, inbound: Headers, userAgent: string): Headers {
  const out = new Headers({ "user-agent": userAgent });
  for (const name of pool.requestHeaders) {
    const value = inbound.get(name);
    if (value !== null) out.set(name, value);
  }
  attachKey(out, PROVIDERS[pool.type].key, member.key);
  return out;
}

export function responseHeaders(pool: Pool, upstream: Headers, settings: Settings): Headers {
  const spec = PROVIDERS[pool.type];
  const drop = new Set<string>([...ALWAYS_DROPPED_RESPONSE_HEADERS, ...spec.dropResponseHeaders, ...pool.dropResponseHeaders]);
  if (settings.dropRequestIds) for (const name of spec.requestIdHeaders) drop.add(name);
  const out = new Headers();
  for (const [name, value] of upstream) if (!drop.has(name) && !name.startsWith("x-ferry-")) out.append(name, value);
  return out;
}

/** The model a request is for: it keys cool-downs, since limits are often per model. */
export function requestModel(pool: Pool, req: InboundRequest): string {
  const hinted = req.headers.get("x-ferry-model");
  if (hinted) return hinted.slice(0, 200);
  const fromPath =
    pool.type === "gemini"
      ? /\/models\/([^/:]+)/.exec(req.path)?.[1]
      : pool.type === "azure-openai"
        ? /^\/openai\/deployments\/([^/]+)/.exec(req.path)?.[1]
        : undefined;
  if (fromPath) return decodeURIComponent(fromPath);
  // Bodies are JSON for every provider here; only small ones are parsed for the model.
  if (req.body && req.body.byteLength <= 2 * 1024 * 1024) {
    try {
      const parsed: unknown = JSON.parse(new TextDecoder().decode(req.body));
      if (parsed && typeof parsed === "object" && "model" in parsed && typeof parsed.model === "string") {
        return parsed.model.slice(0, 200);
      }
    } catch {
      // not JSON: no model
    }
  }
  return "(none)";
}

/**
 * `/proxy/{pool}/{native path}` parsing. The native path is joined to the member's base URL
 * through the URL API (so the host can never change), after refusing anything that could
 * make it mean something else: dot segments (plain or percent-encoded), encoded slashes or
 * backslashes, empty segments, `@`, control characters.
 */
import { err, ok, type Result } from "../shared/result.ts";

export interface ProxyTarget {
  pool: string;
  /** Starts with "/"; still percent-encoded as the caller sent it. */
  path: string;
}

const POOL = /^[a-z0-9][a-z0-9._-]{0,63}$/;
// %2e (.), %2f (/), %5c (\), %40 (@), %00-%1f and %7f (controls), in either case.
const FORBIDDEN_ENCODED = /%(2e|2f|5c|40|[01][0-9a-f]|7f)/i;

export function parseProxyPath(pathname: string): Result<ProxyTarget, string> {
  const m = /^\/proxy\/([^/]+)(\/.*)?$/.exec(pathname);
  if (!m) return err("expected /proxy/{provider}/{path}");
  const pool = m[1]!;
  const path = m[2] ?? "/";
  if (!POOL.test(pool)) return err("invalid provider name");
  if (/[\\@\u0000-\u001f\u007f]/.test(path) || FORBIDDEN_ENCODED.test(path)) return err("path contains a forbidden sequence");
  const segments = path.slice(1).split("/");
  for (const [i, segment] of segments.entries()) {
    if (segment === "." || segment === "..") return err("path contains a dot segment");
    if (segment === "" && i !== segments.length - 1) return err("path contains an empty segment");
  }
  return ok({ pool, path });
}

/** Joins the native path onto a base URL that may carry a path prefix of its own. */
export function joinUpstreamUrl(base: URL, path: string, search: string): URL | null {
  const url = new URL(base.href);
  const prefix = url.pathname.replace(/\/+$/, "");
  url.pathname = prefix + path;
  url.search = search;
  url.hash = "";
  // Belt and braces: whatever the path held, we stay on the configured origin and prefix.
  if (url.origin !== base.origin || !url.pathname.startsWith(prefix + "/")) return null;
  return url;
}

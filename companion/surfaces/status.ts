/**
 * The operator's status page: `GET /status` (one self-contained HTML page that polls
 * `/status.json` every 2 s) and `GET /status.json` (the data). Both need `server.adminKey`:
 * `Authorization: Bearer <adminKey>`, or the `ferry_admin` cookie that `GET /status?key=...`
 * sets before redirecting to /status (so the key leaves the address bar). The cookie holds a
 * hash derived from the key, not the key; changing the key logs every browser out. Without
 * an adminKey the page is off (404 with a hint).
 *
 * Shown: the link, the edge's pool member health (signed GET /admin/pools, cached 5 s), each
 * project's use today against its limits, the last 50 requests from the audit log, and the
 * configured routes. Recent requests carry no prompt text and no keys; they do carry the
 * client IP, as the audit log does: the page is for the office's admins, and the IP is how
 * they find whose tool is misbehaving.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { fetchEdgeAdmin, type EdgeMemberView, type EdgePoolsView } from "../link/admin.ts";
import type { EdgeLink } from "../link/link.ts";
import { linkHealth, type LinkHealth } from "../notify.ts";
import type { Limits } from "../config/schema.ts";
import type { Runtime } from "../runtime.ts";
import type { App, GetRuntime } from "./context.ts";
import { loginPage, statusPage } from "./status-page.ts";

export const ADMIN_COOKIE = "ferry_admin";
const RECENT = 50;
const POOLS_CACHE_MS = 5000;
const COOKIE_MAX_AGE_S = 12 * 3600;

export interface StatusData {
  time: string;
  companion: { startedAt: string; uptimeS: number; timeZone: string; notify: { webhookHost: string } | null };
  link: null | {
    health: LinkHealth;
    transport: string;
    tunnel: { state: string; edge?: string; rttMs?: number; connects: number; openStreams: number };
    edges: { url: string; healthy: boolean; deadUntil?: string }[];
  };
  pools:
    | null
    | { ok: true; edge: string; fetchedAt: string; pools: { name: string; type: string; routed: boolean; members: EdgeMemberView[] }[] }
    | { ok: false; fetchedAt: string; error: string };
  projects: {
    id: string;
    day?: string;
    requestsToday?: number;
    tokensToday?: number;
    requestsThisMinute?: number;
    concurrent?: number;
    limits: Limits;
    error?: string;
  }[];
  recent: {
    id: string;
    time: string;
    project: string | null;
    dialect: string;
    endpoint: string;
    requestedModel: string | null;
    servedModel: string | null;
    target: string | null;
    status: number;
    errorClass: string | null;
    inputTokens: number | null;
    outputTokens: number | null;
    ttfbMs: number | null;
    durationMs: number;
    clientIp: string | null;
    fallbacks: number;
  }[];
  models: { name: string; targets: string[]; listed: boolean }[];
}

type PoolsStatus = NonNullable<StatusData["pools"]>;
const poolsCache = new WeakMap<EdgeLink, { at: number; value: Promise<PoolsStatus> }>();

/** The edge's pool health, at most one fetch per 5 s per link (concurrent pages share it). */
export function edgePools(rt: Runtime): Promise<PoolsStatus> | null {
  const link = rt.link;
  const cfg = rt.config.link;
  if (!link || !cfg) return null;
  const cached = poolsCache.get(link);
  if (cached && Date.now() - cached.at < POOLS_CACHE_MS) return cached.value;
  const value = fetchEdgeAdmin<EdgePoolsView>(cfg, "/admin/pools", { link, timeoutMs: 3000 }).then(
    ({ edge, body }): PoolsStatus => ({
      ok: true,
      edge,
      fetchedAt: new Date().toISOString(),
      pools: Object.entries(body.pools ?? {}).map(([name, pool]) => ({
        name,
        type: pool.type,
        routed: name in rt.config.edgePools,
        members: pool.members,
      })),
    }),
    (error: unknown): PoolsStatus => ({ ok: false, fetchedAt: new Date().toISOString(), error: (error as Error).message }),
  );
  poolsCache.set(link, { at: Date.now(), value });
  return value;
}

export async function statusData(rt: Runtime, startedAt: number): Promise<StatusData> {
  const now = Date.now();
  const state = rt.link?.state();
  const [pools, projects] = await Promise.all([
    edgePools(rt),
    Promise.all(
      rt.config.projects.map(async (p) => {
        try {
          return { id: p.id, ...(await rt.quota.usage(p.id)), limits: p.limits };
        } catch (error) {
          return { id: p.id, limits: p.limits, error: (error as Error).message };
        }
      }),
    ),
  ]);
  return {
    time: new Date(now).toISOString(),
    companion: {
      startedAt: new Date(startedAt).toISOString(),
      uptimeS: Math.round((now - startedAt) / 1000),
      timeZone: rt.config.timeZone,
      notify: rt.config.notify ? { webhookHost: new URL(rt.config.notify.webhookUrl).host } : null,
    },
    link: state ? { health: linkHealth(state), transport: state.transport, tunnel: state.tunnel, edges: state.edges } : null,
    pools,
    projects,
    // Field by field: the record may hold prompt text (audit.recordContent) and the user agent.
    recent: rt.audit.recent(RECENT).map((r) => ({
      id: r.id,
      time: r.time,
      project: r.project,
      dialect: r.dialect,
      endpoint: r.endpoint,
      requestedModel: r.requestedModel,
      servedModel: r.servedModel,
      target: r.target,
      status: r.status,
      errorClass: r.errorClass,
      inputTokens: r.inputTokens,
      outputTokens: r.outputTokens,
      ttfbMs: r.ttfbMs,
      durationMs: r.durationMs,
      clientIp: r.clientIp,
      fallbacks: r.fallbacks.length,
    })),
    models: Object.entries(rt.config.models).map(([name, targets]) => ({ name, targets, listed: !/[*?]/.test(name) })),
  };
}

const digest = (s: string) => createHash("sha256").update(s).digest();
/** Constant-time: both sides are hashed to the same length first. */
const sameSecret = (given: string, expected: string) => timingSafeEqual(digest(given), digest(expected));
const cookieToken = (adminKey: string) => createHash("sha256").update(`ferry-status-cookie\n${adminKey}`).digest("base64url");

function authorized(c: Context, adminKey: string): boolean {
  const bearer = /^Bearer\s+(.+)$/i.exec(c.req.header("authorization") ?? "")?.[1]?.trim();
  if (bearer && sameSecret(bearer, adminKey)) return true;
  const cookie = getCookie(c, ADMIN_COOKIE);
  return !!cookie && sameSecret(cookie, cookieToken(adminKey));
}

function secureHeaders(c: Context, nonce?: string): void {
  c.header("cache-control", "no-store");
  c.header("referrer-policy", "no-referrer");
  c.header("x-frame-options", "DENY");
  if (nonce) {
    c.header(
      "content-security-policy",
      `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; connect-src 'self'; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
    );
  }
}

const OFF_HINT = "the status page is off: set server.adminKey (at least 24 characters) in the companion config";

export function statusRoutes(app: App, runtime: GetRuntime): void {
  const startedAt = Date.now();

  app.get("/status", (c) => {
    const adminKey = runtime().config.server.adminKey;
    secureHeaders(c);
    if (!adminKey) return c.text(`404: ${OFF_HINT}\n`, 404);
    const nonce = randomBytes(16).toString("base64");
    const key = c.req.query("key");
    if (key !== undefined) {
      if (!sameSecret(key, adminKey)) {
        secureHeaders(c, nonce);
        return c.html(loginPage(nonce, "That key is not the admin key."), 401);
      }
      setCookie(c, ADMIN_COOKIE, cookieToken(adminKey), {
        path: "/",
        httpOnly: true,
        sameSite: "Strict",
        secure: new URL(c.req.url).protocol === "https:",
        maxAge: COOKIE_MAX_AGE_S,
      });
      return c.redirect("/status", 303);
    }
    secureHeaders(c, nonce);
    if (!authorized(c, adminKey)) return c.html(loginPage(nonce), 401);
    return c.html(statusPage(nonce));
  });

  app.get("/status.json", async (c) => {
    const rt = runtime();
    const adminKey = rt.config.server.adminKey;
    secureHeaders(c);
    if (!adminKey) return c.json({ error: { type: "not_found", message: OFF_HINT } }, 404);
    if (!authorized(c, adminKey)) {
      c.header("www-authenticate", 'Bearer realm="ferry-status"');
      return c.json({ error: { type: "unauthorized", message: "admin key required (Authorization: Bearer <adminKey>, or sign in at /status)" } }, 401);
    }
    return c.json(await statusData(rt, startedAt));
  });
}

/**
 * One proxied request: pick a member, try it, and on a retryable failure before anything
 * has been returned try another, within `maxAttempts` and `retryBudgetMs`. Once a response
 * is returned nothing is retried; a body that breaks later ends with a visible error.
 */
import type { EdgeConfig, Pool } from "../config.ts";
import { edgeError } from "../errors.ts";
import type { Outcome, PoolHealth, Ticket } from "../pool/health.ts";
import { PROVIDERS } from "../providers.ts";
import { relayBody } from "./relay-body.ts";
import { type InboundRequest, requestModel, responseHeaders, upstreamHeaders, upstreamUrl } from "./upstream-request.ts";

export interface ForwardContext {
  config: EdgeConfig;
  pool: Pool;
  health: PoolHealth;
  /** Aborted when the caller goes away. */
  signal: AbortSignal;
  /** Called whenever durable health state changed. */
  checkpoint: () => void;
  log: (fields: Record<string, unknown>) => void;
  fetch?: typeof fetch;
}

const RETRYABLE_STATUS = (status: number) => status === 429 || status === 401 || status === 403 || status >= 500;

function parseRetryAfterMs(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.ceil(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function classify(status: number, headers: Headers, now: number): Outcome {
  if (status === 401 || status === 403) return { kind: "auth_failed", status };
  if (status === 429) {
    const retryAfterMs = parseRetryAfterMs(headers.get("retry-after"), now);
    return retryAfterMs === undefined ? { kind: "failed", cls: "rate_limited" } : { kind: "failed", cls: "rate_limited", retryAfterMs };
  }
  if (status >= 500) return { kind: "failed", cls: "server" };
  if (status >= 400) return { kind: "client_error" };
  return { kind: "ok" };
}

interface Held {
  response: Response;
  ticket: Ticket;
  controller: AbortController;
  detach: () => void;
}

export async function forward(req: InboundRequest, ctx: ForwardContext): Promise<Response> {
  const { pool, health, config } = ctx;
  const settings = config.settings;
  const shape = PROVIDERS[pool.type].errorShape;
  const doFetch = ctx.fetch ?? fetch;
  const deadline = Date.now() + settings.retryBudgetMs;
  const model = requestModel(pool, req);
  const tried = new Set<string>();
  const report = (ticket: Ticket, outcome: Outcome) => {
    if (health.report(ticket, outcome, Date.now())) ctx.checkpoint();
  };
  /** A failed upstream answer kept (unread) in case no other member is left to try. */
  let held: Held | undefined;
  let lastError: "upstream_unreachable" | "upstream_timeout" = "upstream_unreachable";
  const dropHeld = async () => {
    if (!held) return;
    held.detach();
    await held.response.body?.cancel().catch(() => {});
    held = undefined;
  };

  for (let attempt = 1; attempt <= settings.maxAttempts; attempt++) {
    if (ctx.signal.aborted || (attempt > 1 && Date.now() >= deadline)) break;
    const picked = health.pick(pool.name, pool.members, model, Date.now(), tried);
    if (!picked.ok) {
      if (attempt > 1) break;
      const why = picked.why;
      if (why.reason === "cooling") {
        const seconds = String(Math.max(1, Math.ceil(why.retryAfterMs / 1000)));
        return edgeError(
          why.rateLimited ? "rate_limited" : "pool_exhausted",
          `every member of pool ${pool.name} is cooling down; retry after ${seconds} s`,
          { shape, headers: { "retry-after": seconds } },
        );
      }
      return edgeError("pool_exhausted", `pool ${pool.name} has no usable member (${why.reason === "all_disabled" ? "all disabled" : "all tried"})`, { shape });
    }
    await dropHeld();
    const ticket = picked.ticket;
    const member = pool.members.find((m) => m.id === ticket.member.id)!;
    tried.add(member.id);
    const url = upstreamUrl(pool, member, req);
    if (!url) {
      report(ticket, { kind: "client_error" });
      return edgeError("bad_request", "path cannot be joined to the upstream", { shape });
    }

    const controller = new AbortController();
    const onCallerAbort = () => controller.abort(new Error("caller went away"));
    ctx.signal.addEventListener("abort", onCallerAbort, { once: true });
    const detach = () => ctx.signal.removeEventListener("abort", onCallerAbort);
    const waitMs = Math.max(1, Math.min(settings.headersTimeoutMs, attempt === 1 ? settings.headersTimeoutMs : deadline - Date.now()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error("upstream headers timeout"));
    }, waitMs);

    let response: Response;
    try {
      response = await doFetch(url.href, {
        method: req.method,
        headers: upstreamHeaders(pool, member, req.headers, settings.userAgent),
        body: req.body,
        signal: controller.signal,
        redirect: "manual",
      });
    } catch {
      clearTimeout(timer);
      detach();
      if (ctx.signal.aborted) {
        report(ticket, { kind: "cancelled" });
        break;
      }
      lastError = timedOut ? "upstream_timeout" : "upstream_unreachable";
      report(ticket, { kind: "failed", cls: timedOut ? "timeout" : "network" });
      ctx.log({ msg: "upstream attempt failed", pool: pool.name, member: member.id, attempt, error: lastError, model });
      continue;
    }
    clearTimeout(timer);

    const outcome = classify(response.status, response.headers, Date.now());
    if (outcome.kind !== "ok") ctx.log({ msg: "upstream answered", pool: pool.name, member: member.id, attempt, status: response.status, model });
    if (outcome.kind === "ok" || outcome.kind === "client_error") {
      return relayResponse(ctx, response, { ticket, attempts: attempt, controller, detach, report: (how) => report(ticket, how === "broken" ? { kind: "broken_stream" } : outcome) });
    }
    report(ticket, outcome);
    held = { response, ticket, controller, detach };
  }

  if (held) {
    // Every retry used up: the caller gets the last upstream answer as it was (e.g. its 429).
    const h: Held = held;
    return relayResponse(ctx, h.response, { ...h, attempts: tried.size, report: () => {} });
  }
  if (ctx.signal.aborted) return edgeError("bad_request", "caller went away", { shape, status: 499 });
  return edgeError(lastError, lastError === "upstream_timeout" ? "upstream did not answer in time" : "upstream could not be reached", {
    shape,
    headers: { "x-ferry-attempts": String(tried.size) },
  });
}

function relayResponse(
  ctx: ForwardContext,
  res: Response,
  opts: { ticket: Ticket; attempts: number; controller: AbortController; detach: () => void; report: (how: "ended" | "cancelled" | "broken") => void },
): Response {
  const { pool } = ctx;
  const headers = responseHeaders(pool, res.headers, ctx.config.settings);
  headers.set("x-ferry-pool", pool.name);
  headers.set("x-ferry-member", opts.ticket.member.id);
  headers.set("x-ferry-attempts", String(opts.attempts));
  const done = (how: "ended" | "cancelled" | "broken") => {
    opts.detach();
    opts.report(how);
    if (how === "broken") ctx.log({ msg: "upstream stream broke", pool: pool.name, member: opts.ticket.member.id });
  };
  if (!res.body) {
    done("ended");
    return new Response(null, { status: res.status, headers });
  }
  const body = relayBody(res.body, {
    shape: PROVIDERS[pool.type].errorShape,
    contentType: res.headers.get("content-type") ?? "",
    abort: () => opts.controller.abort(new Error("caller went away")),
    done,
  });
  return new Response(body, { status: res.status, statusText: res.statusText, headers });
}

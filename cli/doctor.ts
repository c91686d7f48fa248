/**
 * `ferry doctor`: checks, from this machine, everything the companion needs — its config, the
 * egress proxy and CAs in effect, each edge (reachable, its config valid, our signature
 * accepted, the tunnel opening and its round-trip time), Ollama and its models. One line per
 * check, PASS / WARN / FAIL, with the fix under each WARN and FAIL; exit 1 if any FAIL.
 * Never prints a secret (proxy credentials are masked).
 */
import { readFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { parseArgs } from "node:util";
import { fetch } from "undici";
import { parse as parseYaml } from "yaml";
import { loadConfigFile } from "../companion/config/load.ts";
import type { CompanionConfig } from "../companion/config/schema.ts";
import type { LinkConfig } from "../companion/link/config.ts";
import { createLink } from "../companion/link/link.ts";
import { createNetwork, type Network } from "../companion/link/network.ts";
import { MAX_CLOCK_SKEW_MS, signRequest } from "../shared/signing.ts";
import { companionEnv, formatIssue } from "./shared.ts";

export const DOCTOR_USAGE = `ferry doctor [--config ferry.yaml] [--env-file FILE] [--timeout-ms 5000]
  Checks the companion config, proxy and CAs, each edge (reachable, config valid, signature
  accepted, tunnel and its RTT) and Ollama. PASS / WARN / FAIL per line, with the fix; exit 1
  if anything FAILs.`;

type Status = "PASS" | "WARN" | "FAIL";

interface Reporter {
  line(status: Status, what: string, fix?: string): void;
  readonly failed: boolean;
}

function reporter(): Reporter {
  let failed = false;
  return {
    line(status, what, fix) {
      if (status === "FAIL") failed = true;
      console.log(`${status}  ${what}`);
      if (fix && status !== "PASS") console.log(`      fix: ${fix}`);
    },
    get failed() {
      return failed;
    },
  };
}

/** A proxy URL without its credentials. */
function maskProxy(proxy: string): string {
  try {
    const url = new URL(proxy);
    if (url.username || url.password) {
      url.username = "***";
      url.password = "";
    }
    return url.href.replace(/\/$/, "");
  } catch {
    return "(not a URL)";
  }
}

/** The error code behind a failed fetch (undici wraps the socket's in `cause`). */
function errorCode(error: unknown): string {
  if (!(error instanceof Error)) return "unknown error";
  if (error.name === "TimeoutError" || error.name === "AbortError") return "timed out";
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? error.message;
}

const TLS_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_GET_ISSUER_CERT",
  "CERT_UNTRUSTED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "CERT_HAS_EXPIRED",
]);

function unreachableFix(code: string): string {
  if (TLS_CODES.has(code)) {
    return "the TLS certificate is not trusted: behind a TLS-inspecting proxy, set link.caFile to its CA bundle (PEM) or start with NODE_EXTRA_CA_CERTS";
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "the host name does not resolve: check link.edges, or set an egress proxy (link.proxy or HTTPS_PROXY) if the office resolves names only through one";
  if (code === "ECONNREFUSED") return "nothing listens there: check the URL in link.edges and that the edge is deployed (npx wrangler deploy)";
  return "check the URL in link.edges; if the office needs an egress proxy, set link.proxy (or HTTPS_PROXY), and NO_PROXY must not list the edge";
}

/** Certificates in a PEM file: how many parse, how many have expired. */
function readPem(path: string): { count: number; expired: number } {
  const text = readFileSync(path, "utf8");
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  let count = 0;
  let expired = 0;
  for (const block of blocks) {
    try {
      const cert = new X509Certificate(block);
      count++;
      if (Date.parse(cert.validTo) < Date.now()) expired++;
    } catch {
      // Not a certificate: not counted.
    }
  }
  return { count, expired };
}

function checkCas(r: Reporter, link: LinkConfig | undefined, env: NodeJS.ProcessEnv, fileEnv: string | null): boolean {
  let ok = true;
  const extra = process.env.NODE_EXTRA_CA_CERTS;
  if (link?.caFile) {
    try {
      const { count, expired } = readPem(link.caFile);
      if (count === 0) {
        ok = false;
        r.line("FAIL", `CA bundle link.caFile (${link.caFile}) holds no certificate`, "point link.caFile at a PEM file of CA certificates (-----BEGIN CERTIFICATE-----)");
      } else if (expired) {
        r.line("WARN", `CA bundle link.caFile (${link.caFile}): ${count} certificate(s), ${expired} expired`, "get the current CA certificate from whoever runs the proxy");
      } else {
        r.line("PASS", `CA bundle link.caFile (${link.caFile}): ${count} certificate(s), trusted for the edge besides the system roots`);
      }
    } catch (error) {
      ok = false;
      r.line("FAIL", `CA bundle link.caFile (${link.caFile}) cannot be read: ${(error as NodeJS.ErrnoException).code ?? "error"}`, "fix the path in link.caFile or remove it");
    }
  }
  if (extra) {
    try {
      const { count } = readPem(extra);
      r.line(count ? "PASS" : "WARN", `NODE_EXTRA_CA_CERTS (${extra}): ${count} certificate(s), in effect for every TLS connection of this process`, count ? undefined : "NODE_EXTRA_CA_CERTS must name a PEM file of CA certificates");
    } catch (error) {
      r.line("FAIL", `NODE_EXTRA_CA_CERTS (${extra}) cannot be read: ${(error as NodeJS.ErrnoException).code ?? "error"}`, "fix or unset NODE_EXTRA_CA_CERTS (Node ignores the whole variable when the file is unreadable)");
    }
  } else if (env.NODE_EXTRA_CA_CERTS) {
    r.line("WARN", `NODE_EXTRA_CA_CERTS is set in ${fileEnv ?? "the env file"} but not in this process's environment`, "Node reads it only at start: start the companion (and doctor) with it in the environment, e.g. node --env-file=.env");
  }
  if (!link?.caFile && !extra && !env.NODE_EXTRA_CA_CERTS) r.line("PASS", "CA: the system roots only (no link.caFile, no NODE_EXTRA_CA_CERTS)");
  return ok;
}

function checkProxy(r: Reporter, link: LinkConfig, env: NodeJS.ProcessEnv, network: Network): void {
  const fromEnv = env.HTTPS_PROXY ?? env.https_proxy;
  const proxy = link.proxy ?? fromEnv;
  if (!proxy) {
    r.line("PASS", "egress proxy: none, the edge is reached directly (no link.proxy, no HTTPS_PROXY)");
    if (env.HTTP_PROXY ?? env.http_proxy) {
      r.line("WARN", "HTTP_PROXY is set but the link does not use it (only link.proxy or HTTPS_PROXY)", "if the edge must be reached through that proxy, set link.proxy or HTTPS_PROXY to it");
    }
    return;
  }
  const source = link.proxy ? "link.proxy" : "HTTPS_PROXY";
  const via = link.edges.filter((e) => network.proxyFor(new URL(e)));
  const direct = link.edges.filter((e) => !via.includes(e));
  r.line(
    "PASS",
    `egress proxy ${maskProxy(proxy)} (from ${source}${link.proxy && fromEnv ? ", which overrides HTTPS_PROXY" : ""}): ${via.length ? `via it: ${via.join(", ")}` : "no edge goes through it"}${direct.length && via.length ? `; direct (NO_PROXY / link.noProxy): ${direct.join(", ")}` : ""}`,
  );
  if (!via.length) r.line("WARN", "every edge is in NO_PROXY / link.noProxy, so the proxy is never used", "remove the edges' hosts from NO_PROXY / link.noProxy if they must go through the proxy");
}

interface EdgeResult {
  reachable: boolean;
  signed: boolean;
}

async function checkEdge(r: Reporter, link: LinkConfig, config: CompanionConfig, edge: string, network: Network, secretHint: string, timeoutMs: number): Promise<EdgeResult> {
  const healthUrl = new URL(edge + "/health");
  let res;
  const started = performance.now();
  try {
    res = await fetch(healthUrl, { dispatcher: network.dispatcher(healthUrl), redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const code = errorCode(error);
    r.line("FAIL", `edge ${edge} cannot be reached (GET /health: ${code})`, unreachableFix(code));
    return { reachable: false, signed: false };
  }
  const ms = Math.round(performance.now() - started);
  const body = (await res.json().catch(() => null)) as { status?: string; config?: { valid?: boolean; errors?: { path: string; message: string }[] } } | null;
  if (!body?.config) {
    r.line("FAIL", `edge ${edge} answered GET /health with ${res.status} but is not a Ferry edge`, "check the URL in link.edges (the worker's own URL, e.g. https://ferry-edge.<account>.workers.dev)");
    return { reachable: false, signed: false };
  }
  r.line("PASS", `edge ${edge} reachable (GET /health ${res.status} in ${ms} ms)`);
  const date = res.headers.get("date");
  const skew = date ? Date.now() - Date.parse(date) : NaN;
  if (Number.isFinite(skew) && Math.abs(skew) > MAX_CLOCK_SKEW_MS - 60_000) {
    r.line("FAIL", `clock: this machine is ${Math.round(skew / 1000)} s off the edge's clock`, "signatures older than 5 minutes are refused: sync this machine's clock (NTP)");
  } else if (Number.isFinite(skew) && Math.abs(skew) > 30_000) {
    r.line("WARN", `clock: this machine is ${Math.round(skew / 1000)} s off the edge's clock`, "sync this machine's clock (NTP) before it drifts past 5 minutes");
  }
  if (body.config.valid) {
    r.line("PASS", `edge ${edge} config valid`);
  } else {
    const issues = (body.config.errors ?? []).map((e) => formatIssue(e)).join("; ");
    r.line("FAIL", `edge ${edge} config invalid: ${issues || "no detail"}`, "correct FERRY_CONFIG or the secrets it names (check them with ferry validate --edge-config edge.json --secrets secrets.json), then npx wrangler secret bulk secrets.json");
    return { reachable: true, signed: false };
  }

  // A signed request, exactly as the link signs: accepted, or the secret / id do not match.
  const path = "/admin/pools";
  const url = new URL(edge + path);
  const signed = await signRequest({ companionId: link.companionId, secret: link.secret, method: "GET", pathAndQuery: path, body: null });
  let admin;
  try {
    admin = await fetch(url, { headers: { ...signed, accept: "application/json" }, dispatcher: network.dispatcher(url), redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    r.line("FAIL", `signature: GET ${path} on ${edge} failed (${errorCode(error)})`, unreachableFix(errorCode(error)));
    return { reachable: true, signed: false };
  }
  if (admin.status === 401) {
    await admin.body?.cancel();
    r.line(
      "FAIL",
      `signature refused by ${edge} (401): the companion secret or id does not match the edge's`,
      `link.secret${secretHint} must equal the edge's secret for companion "${link.companionId}" (the value of the secret its companions[].secret names, e.g. COMPANION_<ID>_SECRET in secrets.json), and link.companionId must be an id in the edge's companions[]; also check this machine's clock`,
    );
    return { reachable: true, signed: false };
  }
  if (admin.status !== 200) {
    await admin.body?.cancel();
    r.line("FAIL", `signature: GET ${path} on ${edge} answered ${admin.status}`, "check the edge's logs (npx wrangler tail)");
    return { reachable: true, signed: false };
  }
  const view = (await admin.json().catch(() => null)) as { pools?: Record<string, unknown> } | null;
  const offered = Object.keys(view?.pools ?? {});
  r.line("PASS", `signature accepted by ${edge} (companion ${link.companionId}; pools: ${offered.join(", ") || "none"})`);
  const missing = Object.keys(config.edgePools).filter((p) => !offered.includes(p));
  if (missing.length) {
    r.line(
      "FAIL",
      `edgePools ${missing.join(", ")}: ${edge} offers no such pool to companion ${link.companionId}`,
      "add the pool to the edge config (pools and this companion's companions[].pools) or remove it from edgePools and models",
    );
  }
  return { reachable: true, signed: true };
}

async function checkTunnel(r: Reporter, link: LinkConfig, edge: string, env: NodeJS.ProcessEnv): Promise<void> {
  const logs: string[] = [];
  const tunnelLink = createLink({ ...link, transport: "tunnel", edges: [edge] }, { env, log: (f) => logs.push(String(f.error ?? f.msg ?? "")) });
  try {
    const started = performance.now();
    const up = await tunnelLink.tunnel!.ready(link.connectTimeoutMs);
    const openMs = Math.round(performance.now() - started);
    const connection = tunnelLink.tunnel!.connection;
    if (!up || !connection) {
      const reason = logs.filter(Boolean).at(-1) ?? `not open after ${link.connectTimeoutMs} ms`;
      r.line(
        "FAIL",
        `tunnel to ${edge} did not open (${reason})`,
        "the network may block WebSockets to the edge (some proxies do): check the proxy, or set link.transport: https",
      );
      return;
    }
    // Round trip: the heartbeat's ping, sent now rather than in heartbeatIntervalMs.
    const rtts: number[] = [];
    for (let i = 0; i < 3; i++) {
      connection.stats.rttMs = undefined;
      connection.ping();
      const deadline = Date.now() + Math.min(link.heartbeatTimeoutMs, 5000);
      while (tunnelLink.state().tunnel.rttMs === undefined && Date.now() < deadline) await new Promise((res) => setTimeout(res, 5));
      const rtt = tunnelLink.state().tunnel.rttMs;
      if (rtt !== undefined) rtts.push(rtt);
    }
    if (!rtts.length) {
      r.line("FAIL", `tunnel to ${edge} opened in ${openMs} ms but no heartbeat came back`, "something between here and the edge holds WebSocket messages back (a buffering proxy): set link.transport: https");
      return;
    }
    const best = Math.min(...rtts);
    const worst = Math.max(...rtts);
    const what = `tunnel to ${edge} opens (${openMs} ms), RTT ${best} ms (${rtts.length} pings, worst ${worst} ms)`;
    if (best > 1000) r.line("WARN", what, "every request waits at least one round trip: check the proxy, or whether a nearer edge route exists");
    else r.line("PASS", what);
  } finally {
    await tunnelLink.close();
  }
}

async function checkOllama(r: Reporter, config: CompanionConfig, timeoutMs: number): Promise<void> {
  const ollama = config.ollama;
  if (!ollama) return;
  const base = ollama.baseUrl.replace(/\/+$/, "");
  let tags: { models?: { name: string }[] } | null;
  try {
    const res = await fetch(base + "/api/tags", { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) {
      await res.body?.cancel();
      r.line("FAIL", `Ollama at ${base} answered GET /api/tags with ${res.status}`, "check ollama.baseUrl: it must be Ollama's own address (port 11434 by default)");
      return;
    }
    tags = (await res.json()) as { models?: { name: string }[] };
  } catch (error) {
    r.line("FAIL", `Ollama at ${base} cannot be reached (${errorCode(error)})`, "start Ollama (ollama serve; in Docker, OLLAMA_HOST=0.0.0.0) or fix ollama.baseUrl, or remove the ollama section");
    return;
  }
  const names = (tags?.models ?? []).map((m) => m.name);
  r.line("PASS", `Ollama at ${base} reachable, ${names.length} model(s)${names.length ? `: ${names.join(", ")}` : ""}`);
  const wanted = new Set(
    Object.values(config.models)
      .flat()
      .filter((t) => t.startsWith("ollama:"))
      .map((t) => t.slice("ollama:".length))
      .filter((m) => m !== "*"),
  );
  const missing = [...wanted].filter((m) => !names.includes(m) && !names.includes(`${m}:latest`));
  if (missing.length) r.line("WARN", `Ollama lacks model(s) the config routes to: ${missing.join(", ")}`, `ollama pull ${missing.join(" && ollama pull ")}`);
}

/** `${NAME}` behind link.secret in the raw YAML, to name it in a fix. */
function secretRefName(configPath: string): string {
  try {
    const raw = parseYaml(readFileSync(configPath, "utf8")) as { link?: { secret?: unknown } } | null;
    const m = typeof raw?.link?.secret === "string" ? /^\$\{([A-Za-z_][A-Za-z0-9_]*)/.exec(raw.link.secret) : null;
    return m ? ` (${m[1]} in .env)` : "";
  } catch {
    return "";
  }
}

export async function doctor(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: "string", default: "ferry.yaml" },
      "env-file": { type: "string" },
      "timeout-ms": { type: "string", default: "5000" },
    },
  });
  const timeoutMs = Number(values["timeout-ms"]) > 0 ? Number(values["timeout-ms"]) : 5000;
  const r = reporter();
  const { env, envFile } = companionEnv(values.config, values["env-file"]);
  const loaded = loadConfigFile(values.config, env);
  if (!loaded.ok) {
    r.line("FAIL", `config ${values.config}: ${loaded.error.length} problem(s): ${loaded.error.map(formatIssue).join("; ")}`, `correct them (ferry validate --config ${values.config} lists them)${envFile ? "" : "; secrets come from the environment or a .env beside the config"}`);
    return 1;
  }
  const config = loaded.value;
  r.line("PASS", `config ${values.config} valid${envFile ? ` (with ${envFile})` : ""}`);

  const link = config.link;
  const casOk = checkCas(r, link, env, envFile);
  if (!link) {
    r.line("WARN", "no link: section, so no edge: only local models are served", "add a link: section (ferry init writes one) to reach the edge");
  } else if (casOk) {
    let network: Network | null = null;
    try {
      network = createNetwork(link, env);
      checkProxy(r, link, env, network);
      const hint = secretRefName(values.config);
      for (const edge of link.edges.map((e) => e.replace(/\/+$/, ""))) {
        const result = await checkEdge(r, link, config, edge, network, hint, timeoutMs);
        if (link.transport === "https") continue;
        if (result.signed) await checkTunnel(r, link, edge, env);
        else if (result.reachable) r.line("FAIL", `tunnel to ${edge} not tried: the edge did not accept this companion`, "fix the signature or edge config above first");
      }
      if (link.transport === "https") r.line("PASS", "link.transport is https: the tunnel is not used");
    } finally {
      await network?.close();
    }
  }
  await checkOllama(r, config, timeoutMs);
  return r.failed ? 1 : 0;
}

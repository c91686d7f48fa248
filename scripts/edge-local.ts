/**
 * Runs the edge worker in local workerd (Miniflare) from wrangler.toml: the same bindings,
 * compatibility flags and Durable Object classes as a deploy, with FERRY_CONFIG (and any
 * secret it references) given directly. Used by `npm start`, the tests and the benchmarks.
 *
 * Miniflare rather than wrangler's test harness: the harness routes the worker's outbound
 * fetches through Node's fetch, which hides streaming, abort and header behaviour that
 * real workerd has.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";

const root = resolve(import.meta.dirname, "..");

// Local runs stay on this machine: no Request.cf download, no wrangler telemetry.
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";
process.env.WRANGLER_SEND_METRICS ??= "false";

export interface LocalEdgeOptions {
  /** FERRY_CONFIG and any other secret, by name. */
  secrets: Record<string, string>;
  /** Where Durable Object storage lives; in memory when absent. */
  persistDir?: string;
  port?: number;
  host?: string;
  /** Serve HTTPS with this PEM key and certificate (tests of custom CAs). */
  tls?: { key: string; cert: string };
  onLog?: (line: string) => void;
}

export interface LocalEdge {
  url: string;
  mf: Miniflare;
  /**
   * Evicts one companion's Relay; its storage stays, so the next request restores it.
   * With "hibernate" its tunnels stay connected and wake it on their next message.
   */
  evictRelay(companionId: string, webSockets?: "close" | "hibernate"): Promise<void>;
  close(): Promise<void>;
}

let bundled: Promise<string> | undefined;

/** Bundles worker/index.ts once per process with esbuild, as wrangler would. */
export function bundleWorker(): Promise<string> {
  bundled ??= (async () => {
    const outdir = join(root, ".cache", "edge-bundle", String(process.pid));
    mkdirSync(outdir, { recursive: true });
    await build({
      entryPoints: [join(root, "worker", "index.ts")],
      outfile: join(outdir, "index.js"),
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2024",
      conditions: ["workerd", "worker", "browser"],
      mainFields: ["module", "main"],
      external: ["cloudflare:*"],
      logLevel: "error",
    });
    return join(outdir, "index.js");
  })();
  return bundled;
}

export async function startLocalEdge(opts: LocalEdgeOptions): Promise<LocalEdge> {
  const scriptPath = await bundleWorker();
  const { workerOptions } = unstable_getMiniflareWorkerOptions(join(root, "wrangler.toml"));
  const name = "ferry-edge";
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      name,
      modules: true,
      scriptPath,
      compatibilityDate: workerOptions.compatibilityDate,
      compatibilityFlags: workerOptions.compatibilityFlags,
      durableObjects: workerOptions.durableObjects,
      bindings: opts.secrets,
      cf: false,
      host: opts.host ?? "127.0.0.1",
      port: opts.port ?? 0,
      ...(opts.persistDir ? { resourcePersistencePath: opts.persistDir } : {}),
      ...(opts.tls ? { https: true, httpsKey: opts.tls.key, httpsCert: opts.tls.cert } : {}),
      handleStructuredLogs: (log: { message?: string }) => opts.onLog?.(String(log.message ?? JSON.stringify(log))),
    } as Parameters<typeof convertV4MiniflareOptions>[0]),
  );
  const url = (await mf.ready).href.replace(/\/$/, "");
  return {
    url,
    mf,
    evictRelay: (companionId, webSockets = "close") => mf.unsafeEvictDurableObject(name, "Relay", { name: companionId, webSockets } as never),
    close: () => mf.dispose(),
  };
}

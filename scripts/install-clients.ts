/**
 * Installs the three coding CLIs the client tests drive (test/clients/), on demand, into
 * .cache/clients: not package dependencies, never in package.json or the lock file. Pinned to
 * the versions CLIENTS.md was observed with; skipped when those versions are already there.
 *
 *   node scripts/install-clients.ts          # install if needed, print the binaries
 *
 * npm may hold back install scripts (allowScripts); Claude Code's postinstall only swaps its
 * bin/claude.exe placeholder for the platform binary, so it is run here when the binary does
 * not answer `--version`. Gemini CLI's optional native modules (keytar, node-pty) are not
 * needed for `gemini -p`.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const CLIENT_PACKAGES = {
  claude: { pkg: "@anthropic-ai/claude-code", version: "2.1.330", bin: "bin/claude.exe" },
  codex: { pkg: "@openai/codex", version: "0.169.0", bin: "bin/codex.js" },
  gemini: { pkg: "@google/gemini-cli", version: "0.61.0", bin: "bundle/gemini.js" },
} as const;
export type ClientName = keyof typeof CLIENT_PACKAGES;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const CLIENTS_DIR = join(ROOT, ".cache", "clients");

export interface ClientsInstall {
  dir: string;
  /** Absolute path of each CLI's entry (what `node_modules/.bin/<name>` points at). */
  bins: Record<ClientName, string>;
  /** False when every pinned version was already installed. */
  installed: boolean;
  ms: number;
}

const packageDir = (name: ClientName) => join(CLIENTS_DIR, "node_modules", CLIENT_PACKAGES[name].pkg);
const binPath = (name: ClientName) => join(packageDir(name), CLIENT_PACKAGES[name].bin);

function installedVersion(name: ClientName): string | null {
  try {
    return (JSON.parse(readFileSync(join(packageDir(name), "package.json"), "utf8")) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}

/** The CLI starts and reports the pinned version (fully offline: `--version` makes no call). */
function answersVersion(name: ClientName): boolean {
  const file = binPath(name);
  if (!existsSync(file)) return false;
  const command = file.endsWith(".js") ? process.execPath : file;
  const args = file.endsWith(".js") ? [file, "--version"] : ["--version"];
  const home = join(CLIENTS_DIR, "version-home");
  mkdirSync(home, { recursive: true });
  const run = spawnSync(command, args, {
    encoding: "utf8",
    timeout: 30_000,
    env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: home, CODEX_HOME: join(home, ".codex") },
  });
  return run.status === 0 && run.stdout.includes(CLIENT_PACKAGES[name].version);
}

const NAMES = Object.keys(CLIENT_PACKAGES) as ClientName[];

export function clientBins(): Record<ClientName, string> {
  return Object.fromEntries(NAMES.map((n) => [n, binPath(n)])) as Record<ClientName, string>;
}

export function ensureClients(log: (line: string) => void = () => {}): ClientsInstall {
  const started = performance.now();
  const stale = NAMES.filter((n) => installedVersion(n) !== CLIENT_PACKAGES[n].version || !existsSync(binPath(n)));
  if (stale.length) {
    mkdirSync(CLIENTS_DIR, { recursive: true });
    const specs = NAMES.map((n) => `${CLIENT_PACKAGES[n].pkg}@${CLIENT_PACKAGES[n].version}`);
    log(`installing ${specs.join(" ")} into ${CLIENTS_DIR}`);
    const npm = spawnSync("npm", ["install", "--prefix", CLIENTS_DIR, "--no-audit", "--no-fund", "--no-save", ...specs], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 600_000,
      // Its own cache and config files stay in the folder; the registry and proxy settings come
      // from the usual npm config.
      env: { ...process.env, npm_config_update_notifier: "false" },
    });
    if (npm.status !== 0) throw new Error(`npm install of the clients failed (${npm.status ?? npm.signal}):\n${npm.stderr}\n${npm.stdout}`);
    for (const n of NAMES) {
      if (installedVersion(n) !== CLIENT_PACKAGES[n].version) throw new Error(`${CLIENT_PACKAGES[n].pkg} is not at ${CLIENT_PACKAGES[n].version} after npm install`);
    }
  }
  // Claude Code's native binary replaces the placeholder in its postinstall.
  if (!answersVersion("claude")) {
    log("running Claude Code's postinstall (native binary)");
    const post = spawnSync(process.execPath, ["install.cjs"], { cwd: packageDir("claude"), encoding: "utf8", timeout: 120_000 });
    if (post.status !== 0 || !answersVersion("claude")) throw new Error(`Claude Code's binary does not start:\n${post.stderr}\n${post.stdout}`);
  }
  for (const n of ["codex", "gemini"] as const) {
    if (!answersVersion(n)) throw new Error(`${CLIENT_PACKAGES[n].pkg}@${CLIENT_PACKAGES[n].version} does not answer --version`);
  }
  return { dir: CLIENTS_DIR, bins: clientBins(), installed: stale.length > 0, ms: Math.round(performance.now() - started) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = ensureClients((line) => console.error(line));
  console.log(`${result.installed ? "installed" : "already installed"} in ${(result.ms / 1000).toFixed(1)} s`);
  for (const [name, bin] of Object.entries(result.bins)) console.log(`${name}: ${bin}`);
}

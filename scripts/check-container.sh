#!/usr/bin/env bash
# Proves the commands the companion image runs, without a Docker engine (CI has none): in a
# temporary folder laid out like the image's /app, it runs the Dockerfile's own install command
# (production dependencies only), starts its own CMD with deploy/ferry.yaml (paths moved to
# the temporary folder, 127.0.0.1, a free port, generated secrets in the environment as compose
# passes them), waits for its own HEALTHCHECK command to succeed, then stops the companion with
# SIGTERM (what `docker stop` sends) and expects a clean exit. The commands are read from the
# Dockerfile, not copied, so they cannot drift apart. Also validates docker-compose.yml with
# `docker compose config` (or docker-compose) where one is installed: it needs no engine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# Node 24, as in node:24-slim: the project's own (the `node` devDependency); npm runs on it too.
export PATH="$root/node_modules/.bin:$PATH"
if [[ "$(node -p 'process.versions.node.split(".")[0]')" != 24 ]]; then
  echo "check-container: needs the project's Node 24 (npm install first)" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-container.XXXXXX")
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() {
  echo "check-container: FAIL: $*" >&2
  if [[ -s "$work/companion.log" ]]; then
    echo "--- companion log ---" >&2
    tail -n 40 "$work/companion.log" >&2
  fi
  exit 1
}

# The Dockerfile's commands, as JSON lines {kind, ...}: the deps stage's RUN, COPY sources from
# the build context, ENV, HEALTHCHECK and CMD of the final stage.
node --input-type=module - "$root/Dockerfile" >"$work/plan.jsonl" <<'EOF'
import { readFileSync } from "node:fs";
const text = readFileSync(process.argv[2], "utf8").replace(/\\\n/g, " ");
for (const raw of text.split("\n")) {
  const line = raw.trim();
  if (!line || line.startsWith("#")) continue;
  const [word, ...rest] = line.split(/\s+/);
  const args = rest.join(" ");
  const out = (o) => console.log(JSON.stringify(o));
  switch (word.toUpperCase()) {
    case "FROM": out({ kind: "from", image: rest[0], stage: rest[2] ?? null }); break;
    case "RUN": {
      out({ kind: "run", command: args });
      const uid = /useradd\b.*--uid (\d+)/.exec(args)?.[1];
      const gid = /groupadd\b.*--gid (\d+)/.exec(args)?.[1];
      if (uid) out({ kind: "user", uid: Number(uid), gid: Number(gid ?? uid) });
      break;
    }
    case "USER": out({ kind: "switch-user", name: rest[0] }); break;
    case "COPY": if (!args.startsWith("--from")) out({ kind: "copy", sources: rest.slice(0, -1) }); break;
    case "ENV": for (const pair of rest) { const i = pair.indexOf("="); out({ kind: "env", name: pair.slice(0, i), value: pair.slice(i + 1) }); } break;
    case "HEALTHCHECK": out({ kind: "healthcheck", argv: JSON.parse(args.slice(args.indexOf("CMD ") + 4)) }); break;
    case "CMD": out({ kind: "cmd", argv: JSON.parse(args) }); break;
  }
}
EOF
plan() { node --input-type=module -e "$1" "$work/plan.jsonl"; }
read_plan='import { readFileSync } from "node:fs"; const steps = readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => JSON.parse(l));'

[[ "$(plan "$read_plan console.log(steps.filter((s) => s.kind === 'from').map((s) => s.image).join(' '))")" == "node:24-slim node:24-slim" ]] ||
  fail "expected both stages FROM node:24-slim"
install=$(plan "$read_plan console.log(steps.find((s) => s.kind === 'run' && s.command.startsWith('npm ')).command)")
mapfile -t sources < <(plan "$read_plan for (const s of steps) if (s.kind === 'copy') for (const src of s.sources) console.log(src)")
[[ "$(plan "$read_plan console.log(steps.some((s) => s.kind === 'switch-user' && s.name !== 'root'))")" == true ]] ||
  fail "the image does not switch to a non-root USER"
ids=$(plan "$read_plan const u = steps.find((s) => s.kind === 'user'); console.log(u ? u.uid + ':' + u.gid : '')")
mapfile -t envs < <(plan "$read_plan for (const s of steps) if (s.kind === 'env') console.log(s.name + '=' + s.value)")
mapfile -d '' -t cmd < <(plan "$read_plan for (const a of steps.find((s) => s.kind === 'cmd').argv) process.stdout.write(a + '\0')")
mapfile -d '' -t health < <(plan "$read_plan for (const a of steps.find((s) => s.kind === 'healthcheck').argv) process.stdout.write(a + '\0')")

# /app as the image has it: the COPY sources, less what .dockerignore keeps out of the context.
app="$work/app"
mkdir -p "$app" "$work/etc" "$work/data"
for src in "${sources[@]}"; do cp -R "$root/$src" "$app/"; done
# (.dockerignore's `**/NAME` lines; its allowlist is the COPY lines' business.)
while read -r pattern; do
  [[ "$pattern" == '**/'* ]] || continue
  find "$app" -depth -name "${pattern#'**/'}" -exec rm -rf {} +
done <"$root/.dockerignore"

echo "check-container: $install"
started=$SECONDS
(cd "$app" && bash -c "$install") >"$work/install.log" 2>&1 || { cat "$work/install.log" >&2; fail "install command failed"; }
for dev in vitest typescript wrangler node; do
  [[ ! -e "$app/node_modules/$dev" ]] || fail "dev dependency $dev was installed"
done
echo "check-container: production install took $((SECONDS - started)) s"

port=$(node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
# Nothing listens on this one: the edge and Ollama are unreachable, which must not stop /health.
closed=$(node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
# deploy/ferry.yaml with the container's paths and address moved here (yaml: a production dependency).
(cd "$app" && node --input-type=module - "$root/deploy/ferry.yaml" "$work/etc/ferry.yaml" "$work/data" "$port") <<'EOF'
import { readFileSync, writeFileSync } from "node:fs";
import { parseDocument } from "yaml";
const [src, dest, data, port] = process.argv.slice(2);
const doc = parseDocument(readFileSync(src, "utf8"));
const fix = (path, value) => {
  if (!doc.hasIn(path)) throw new Error(`deploy/ferry.yaml has no ${path.join(".")}`);
  doc.setIn(path, value);
};
fix(["server", "host"], "127.0.0.1");
fix(["server", "port"], Number(port));
for (const key of ["store", "audit"]) {
  const path = doc.getIn([key, "path"]);
  if (!String(path).startsWith("/var/lib/ferry/")) throw new Error(`${key}.path is not on the data volume`);
  fix([key, "path"], String(path).replace("/var/lib/ferry", data));
}
writeFileSync(dest, doc.toString());
EOF

gen() { node -e "console.log(require('node:crypto').randomBytes($1).toString('base64url'))"; }
# The environment docker-compose.yml gives the container (secrets generated here).
companion_env=(
  FERRY_EDGE_URL="http://127.0.0.1:$closed" FERRY_COMPANION_ID=office FERRY_COMPANION_SECRET="$(gen 32)"
  FERRY_TEAM_KEY="$(gen 24)" OLLAMA_URL="http://127.0.0.1:$closed" HTTPS_PROXY= NO_PROXY=
  "${envs[@]}"
)
argv=("${cmd[@]}")
for i in "${!argv[@]}"; do [[ "${argv[$i]}" == /etc/ferry/ferry.yaml ]] && argv[$i]="$work/etc/ferry.yaml"; done
[[ "${argv[*]}" != "${cmd[*]}" ]] || fail "CMD does not name /etc/ferry/ferry.yaml"
health_argv=("${health[@]}")
health_argv=("${health_argv[@]//127.0.0.1:8080/127.0.0.1:$port}")
[[ "${health_argv[*]}" != "${health[*]}" ]] || fail "HEALTHCHECK does not ask 127.0.0.1:8080"

# As the image's user where this shell may switch to it (root, as on CI): it can read /app and
# the config, and write only the data folder.
run_as=()
if [[ "$(id -u)" == 0 && -n "$ids" ]] && command -v setpriv >/dev/null; then
  chmod 755 "$work"
  chmod -R a+rX "$app" "$work/etc"
  chown "$ids" "$work/data"
  run_as=(setpriv --reuid="${ids%:*}" --regid="${ids#*:}" --clear-groups)
fi

echo "check-container: ${cmd[*]}${run_as:+ (as uid ${ids%:*})}"
(cd "$app" && exec env "${companion_env[@]}" "${run_as[@]}" "${argv[@]}") >"$work/companion.log" 2>&1 &
pid=$!
healthy=""
for _ in $(seq 100); do
  kill -0 "$pid" 2>/dev/null || fail "the companion exited before it was healthy"
  if (cd "$app" && "${health_argv[@]}") 2>/dev/null; then healthy=1; break; fi
  sleep 0.2
done
[[ -n "$healthy" ]] || fail "HEALTHCHECK did not pass within 20 s"
echo "check-container: HEALTHCHECK passed $((SECONDS - started)) s after the install began"
[[ -f "$work/data/ferry.db" && -f "$work/data/audit.db" ]] || fail "quota store or audit log not created on the data volume"
if [[ ${#run_as[@]} -gt 0 ]]; then
  [[ "$(stat -c %u "$work/data/ferry.db")" == "${ids%:*}" ]] || fail "the companion did not run as uid ${ids%:*}"
fi

kill -TERM "$pid"
code=""
for _ in $(seq 100); do
  if ! kill -0 "$pid" 2>/dev/null; then
    code=0
    wait "$pid" || code=$?
    break
  fi
  sleep 0.1
done
[[ -n "$code" ]] || fail "the companion did not stop within 10 s of SIGTERM"
pid=""
[[ "$code" == 0 ]] || fail "the companion exited with $code on SIGTERM"
echo "check-container: stopped cleanly on SIGTERM"

compose=()
if docker compose version >/dev/null 2>&1; then compose=(docker compose)
elif command -v docker-compose >/dev/null; then compose=(docker-compose); fi
if [[ ${#compose[@]} -gt 0 ]]; then
  (cd "$root" && FERRY_EDGE_URL=https://edge.example FERRY_COMPANION_SECRET=x FERRY_TEAM_KEY=x \
    "${compose[@]}" --profile ollama --profile redis config -q) || fail "${compose[*]} config rejected docker-compose.yml"
  echo "check-container: ${compose[*]} config: docker-compose.yml is valid"
else
  echo "check-container: no docker compose here; docker-compose.yml not validated"
fi
echo "check-container: ok ($((SECONDS - started)) s)"

#!/usr/bin/env bash
# emulate-build.sh RENDERED_DEV_YAML — `validate-deploy.sh --build`.
#
# There is no Docker engine (and no registry to pull node:22 from) on the machines this project
# runs on, so this follows deploy/Dockerfile's stages with the machine's own node and npm, on
# exactly the files the build context would hold (.dockerignore applied):
#   prod-deps  package files only → npm ci --omit=dev → drop the workspace links
#   build      npm ci → sources → npm run build
#   runtime    node_modules (prod-deps) + dist (build) + package.json, made read-only
# and then runs the result as the pods do, as uid 10001 when run as root:
#   1. embedded default: /livez and /readyz answer 200, /metrics 200 on METRICS_PORT and 404 on the
#      API port; SIGTERM ends it with exit 0 inside
#      the pod's grace period (less the preStop sleep);
#   2. with TEST_DATABASE_URL and TEST_REDIS_URL set (as in CI): the dev overlay's commands and
#      ConfigMap, secrets as *_FILE files — the init container waits while a migration is pending,
#      the server refuses to start (exit 78), the migration Job's command migrates, the init
#      container then passes, the server becomes ready, create-admin works, SIGTERM drains.
# Slow where native modules (bcrypt, better-sqlite3) cannot fetch prebuilt binaries and compile.
set -euo pipefail
cd "$(dirname "$0")/../.."
rendered=${1:?usage: emulate-build.sh RENDERED_DEV_YAML}
tools=scripts/deploy-check

work=$(mktemp -d "${TMPDIR:-/tmp}/emulate-build.XXXXXX")
chmod 0755 "$work" # uid 10001 must reach rt/, tmp/ and secrets/ inside
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  if [ -n "${database:-}" ]; then
    (cd "$work/rt" && node -e "$sql" "DROP DATABASE IF EXISTS \`$database\`") >/dev/null 2>&1 || true
    (cd "$work/rt" && node -e '
      const Redis = require("ioredis"); const r = new Redis(process.argv[1], { lazyConnect: true });
      (async () => { await r.connect(); let c = "0"; do { const [n, keys] = await r.scan(c, "MATCH", process.argv[2] + "*", "COUNT", 500); c = n; if (keys.length) await r.del(...keys) } while (c !== "0"); await r.quit() })().catch(() => process.exit(0))
    ' "$TEST_REDIS_URL" "$database:") >/dev/null 2>&1 || true
  fi
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
say() { printf 'emulate-build: %s\n' "$*"; }
fail() { say "FAIL: $*" >&2; exit 1; }

# --- the build context
node "$tools/check-dockerfile.mjs" --list-context | while IFS= read -r f; do
  mkdir -p "$work/ctx/$(dirname "$f")"
  cp "$f" "$work/ctx/$f"
done
package_files() {
  for f in package.json package-lock.json services/verifier/package.json services/orders-demo/package.json; do
    mkdir -p "$1/$(dirname "$f")"
    cp "$work/ctx/$f" "$1/$f"
  done
}

if [ -n "${EMULATE_BUILD_RUNTIME:-}" ]; then
  # iterating on the run checks below: reuse a runtime tree from an earlier run
  mkdir -p "$work/rt"
  cp -R "$EMULATE_BUILD_RUNTIME/." "$work/rt/"
  chmod -R a-w "$work/rt"
else
t0=$(date +%s)
# Both stages at once, as BuildKit runs them.
say "prod-deps (npm ci --omit=dev) and build (npm ci && npm run build), in parallel"
package_files "$work/deps"
package_files "$work/build"
(cd "$work/deps" && npm ci --omit=dev --no-audit --no-fund --loglevel=error >"$work/deps.log" 2>&1 && rm -rf node_modules/@token-authority) &
deps_pid=$!
(cd "$work/build" && npm ci --no-audit --no-fund --loglevel=error >"$work/build.log" 2>&1) || { cat "$work/build.log"; fail "build stage: npm ci"; }
# COPY services/ services/ etc.: the folders' contents, next to the workspace package files
(cd "$work/ctx" && tar -cf - tsconfig.json tsconfig.build.json services scripts openapi) | (cd "$work/build" && tar -xf -)
(cd "$work/build" && npm run build --silent) || fail "build stage: npm run build"
wait "$deps_pid" || { cat "$work/deps.log"; fail "prod-deps stage: npm ci --omit=dev"; }
[ -f "$work/build/dist/services/authority/src/server.js" ] || fail "the build produced no dist/services/authority/src/server.js"
say "runtime: node_modules + dist + package.json ($(( $(date +%s) - t0 ))s for the stages)"
mkdir -p "$work/rt"
cp -R "$work/deps/node_modules" "$work/build/dist" "$work/ctx/package.json" "$work/rt/"
chmod -R a-w "$work/rt"
fi

# --- run as the image does: uid 10001, code read-only, writable /tmp and secrets as files
as_user=()
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then as_user=(setpriv --reuid=10001 --regid=10001 --clear-groups); fi
mkdir -p "$work/tmp" "$work/secrets"
[ ${#as_user[@]} -gt 0 ] && chown 10001:10001 "$work/tmp"

# the dev overlay's commands and settings, from the rendered manifests
node --input-type=module -e '
  import { readFileSync, writeFileSync } from "node:fs"
  import { parseAllDocuments } from "yaml"
  const objs = parseAllDocuments(readFileSync(process.argv[1], "utf8")).map((d) => d.toJS()).filter(Boolean)
  const server = objs.find((o) => o.kind === "Deployment" && o.spec.template.metadata.labels["app.kubernetes.io/component"] === "server")
  const job = objs.find((o) => o.kind === "Job")
  const pod = server.spec.template.spec
  const init = pod.initContainers[0]
  const main = pod.containers[0]
  const cm = objs.find((o) => o.kind === "ConfigMap" && o.metadata.name === main.envFrom[0].configMapRef.name)
  const j = job.spec.template.spec.containers[0]
  const sleep = Number(main.lifecycle.preStop.exec.command[1])
  const q = (a) => a.map((s) => "\x27" + String(s).replace(/\x27/g, "\x27\\\x27\x27") + "\x27").join(" ")
  writeFileSync(process.argv[2], [
    `init_cmd=(${q([...(init.command ?? []), ...(init.args ?? [])])})`,
    `job_cmd=(${q([...(j.command ?? []), ...(j.args ?? [])])})`,
    `config_env=(${q(Object.entries(cm.data).map(([k, v]) => `${k}=${v}`))})`,
    `budget=${(pod.terminationGracePeriodSeconds ?? 30) - sleep}`
  ].join("\n") + "\n")
' "$rendered" "$work/manifest.sh"
# shellcheck source=/dev/null
. "$work/manifest.sh"

port() { echo $(( 20000 + RANDOM % 20000 )); }
wait_http() { for _ in $(seq 1 100); do curl -sf -o /dev/null "$1" && return 0; sleep 0.2; done; return 1; }
code() { curl -s -o /dev/null -w '%{http_code}' "$1"; }
run() { (cd "$work/rt" && exec "${as_user[@]}" env -i PATH="$PATH" HOME="$work/tmp" "$@"); }
# in the background, $! being the server itself (the subshell execs into it)
start() {
  (cd "$work/rt" && exec "${as_user[@]}" env -i PATH="$PATH" HOME="$work/tmp" "$@") >"$log" 2>&1 &
  pids+=($!)
}
stop_within() { # pid seconds
  local start=$SECONDS
  kill -TERM "$1"
  local rc=0
  wait "$1" || rc=$?
  pids=("${pids[@]/$1}")
  [ "$rc" -eq 0 ] || fail "server exited $rc on SIGTERM"
  [ $((SECONDS - start)) -lt "$2" ] || fail "SIGTERM took $((SECONDS - start))s, the budget is $2s"
  say "SIGTERM: drained and exited 0 in $((SECONDS - start))s (budget ${2}s)"
}

# 1. embedded default
p=$(port)
mp=$(port)
log="$work/embedded.log"
start NODE_ENV=production DATA_DIR="$work/tmp/data" PORT="$p" METRICS_PORT="$mp" HOST=127.0.0.1 node dist/services/authority/src/server.js
wait_http "http://127.0.0.1:$p/livez" || { cat "$log"; fail "the embedded server did not answer /livez"; }
for path in livez readyz; do
  [ "$(code "http://127.0.0.1:$p/$path")" = 200 ] || fail "embedded: /$path is not 200"
done
[ "$(code "http://127.0.0.1:$mp/metrics")" = 200 ] || fail "embedded: /metrics on METRICS_PORT is not 200"
[ "$(code "http://127.0.0.1:$p/metrics")" = 404 ] || fail "embedded: /metrics on the API port is not 404"
say "embedded default as uid $([ ${#as_user[@]} -gt 0 ] && echo 10001 || id -u), read-only code: /livez /readyz 200, /metrics 200 on METRICS_PORT only"
stop_within "${pids[-1]}" "$budget"

# 2. the dev overlay's pod, against real MySQL and Redis
if [ -z "${TEST_DATABASE_URL:-}" ] || [ -z "${TEST_REDIS_URL:-}" ]; then
  say "TEST_DATABASE_URL / TEST_REDIS_URL not set: skipped the MySQL + Redis run of the pod's commands"
  exit 0
fi
database="ta_deploy_$$_$RANDOM"
sql='const m = await import("mysql2/promise"); const c = await m.createConnection(process.env.TEST_DATABASE_URL); await c.query(process.argv[1]); await c.end()'
sql="(async () => { $sql })().catch((e) => { console.error(e.message); process.exit(1) })"
(cd "$work/rt" && TEST_DATABASE_URL="$TEST_DATABASE_URL" node -e "$sql" "CREATE DATABASE \`$database\`")
base_url=${TEST_DATABASE_URL%/*}
printf '%s' "$base_url/$database" > "$work/secrets/database-url"
printf '%s' "$TEST_REDIS_URL" > "$work/secrets/redis-url"
printf 'k1:%s' "$(head -c 32 /dev/urandom | base64 | tr -d '\n')" > "$work/secrets/token-signing-keys"
head -c 32 /dev/urandom | base64 | tr -d '\n' > "$work/secrets/token-pepper"
chmod 0440 "$work/secrets"/*
[ ${#as_user[@]} -gt 0 ] && chown -R 0:10001 "$work/secrets"
pod_env=("${config_env[@]}" DATA_DIR="$work/tmp/data" REDIS_KEY_PREFIX="${database}:" HOST=127.0.0.1
  DATABASE_URL_FILE="$work/secrets/database-url" REDIS_URL_FILE="$work/secrets/redis-url"
  TOKEN_SIGNING_KEYS_FILE="$work/secrets/token-signing-keys" TOKEN_PEPPER_FILE="$work/secrets/token-pepper")

rc=0; run "${pod_env[@]}" timeout 7 "${init_cmd[@]}" >"$work/init1.log" 2>&1 || rc=$?
[ "$rc" -eq 124 ] && grep -q waiting "$work/init1.log" || fail "init container before the Job: expected it to keep waiting, got exit $rc"
say "init container waits while migrations are pending"
rc=0; run "${pod_env[@]}" PORT="$(port)" METRICS_PORT="$(port)" node dist/services/authority/src/server.js >"$work/refuse.log" 2>&1 || rc=$?
[ "$rc" -eq 78 ] || fail "server before the Job: expected exit 78, got $rc"
say "server refuses to start while migrations are pending (exit 78)"
run "${pod_env[@]}" "${job_cmd[@]}" >"$work/job.log" 2>&1 || { cat "$work/job.log"; fail "the migration Job's command failed"; }
say "migration Job: $(tr -d '\n' < "$work/job.log")"
run "${pod_env[@]}" timeout 30 "${init_cmd[@]}" >"$work/init2.log" 2>&1 || fail "init container after the Job did not pass"
say "init container passes once migrated"
p=$(port)
log="$work/server.log"
start "${pod_env[@]}" PORT="$p" METRICS_PORT="$(port)" node dist/services/authority/src/server.js
wait_http "http://127.0.0.1:$p/readyz" || { cat "$log"; fail "the server did not become ready on MySQL + Redis"; }
say "server ready on MySQL + Redis (/readyz 200)"
run "${pod_env[@]}" node dist/scripts/authority-cli.js create-admin --username admin --json | grep -q '"ok":true' || fail "create-admin failed"
say "create-admin (as kubectl exec would run it) printed a one-time password"
stop_within "${pids[-1]}" "$budget"

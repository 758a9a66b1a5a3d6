#!/usr/bin/env bash
# The verifier as another team gets it: `npm pack` services/verifier, check the tarball (files,
# exports targets, source maps), install it with fastify@5 into a brand-new project OUTSIDE the
# repository, type-check a consumer .ts file against the package's types, and run a protected
# route in that project against a live authority built from this repository:
#   no token → 401, a PAT → 200, a scope the PAT lacks → 403, the PAT revoked → 401 within 1 s
#   (the revocation stream; the cache TTL is 30 s), the authority down → 503 (fails closed).
#
#   bash scripts/verifier-package-check.sh              the whole check (needs the npm registry)
#   bash scripts/verifier-package-check.sh --pack-only  pack and check the tarball only (offline)
#
# Environment: VERIFIER_TARBALL=path checks that tarball instead of packing one;
# SKIP_BUILD=1 uses the authority's dist/ as it is (default: `npm run build` first);
# KEEP_TMP=1 keeps the temporary folder (it holds throwaway test credentials only).
# Works from a fresh clone after `npm ci`. Exits non-zero on the first failure, printing the logs.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
mode=full
case "${1:-}" in
  '') ;;
  --pack-only) mode=pack-only ;;
  -h | --help)
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "usage: $0 [--pack-only]" >&2
    exit 2
    ;;
esac

started=$SECONDS
step_no=0
step() {
  step_no=$((step_no + 1))
  printf '[%2d] %s (%ds)\n' "$step_no" "$*" $((SECONDS - started))
}
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/verifier-package-check.XXXXXX")
work=$(cd "$work" && pwd -P)
case "$work/" in "$(cd "$root" && pwd -P)"/*) fail "the temporary folder $work is inside the repository" ;; esac

authority_pid=''
consumer_pid=''
cleanup() {
  local rc=$?
  trap - EXIT
  for pid in "$consumer_pid" "$authority_pid"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  if [ "$rc" -ne 0 ]; then
    for log in "$work"/*.log; do
      [ -f "$log" ] || continue
      echo "---- last lines of $(basename "$log") ----" >&2
      tail -n 30 "$log" >&2
    done
    echo "verifier package check FAILED after $((SECONDS - started))s" >&2
  fi
  if [ "${KEEP_TMP:-}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- pack ----------------------------------------------------------------------------------------
if [ -n "${VERIFIER_TARBALL:-}" ]; then
  tarball=$(cd "$(dirname "$VERIFIER_TARBALL")" && pwd)/$(basename "$VERIFIER_TARBALL")
  [ -f "$tarball" ] || fail "VERIFIER_TARBALL=$VERIFIER_TARBALL: no such file"
  step "using the tarball $tarball"
else
  step "npm pack -w services/verifier (prepack builds dist/)"
  mkdir -p "$work/pack"
  (cd "$root" && npm pack -w services/verifier --pack-destination "$work/pack" --no-audit --no-fund) >"$work/pack.log" 2>&1 ||
    fail "npm pack failed"
  tarball=$(ls "$work"/pack/*.tgz 2>/dev/null | head -n 1)
  [ -n "$tarball" ] || fail "npm pack made no tarball"
fi

step "check the tarball: files, exports and types targets, source maps, imports"
mkdir -p "$work/unpacked"
tar -xzf "$tarball" -C "$work/unpacked" || fail "cannot unpack $tarball"
node - "$work/unpacked/package" <<'EOF' || fail "the tarball is not a usable package"
const fs = require('node:fs')
const path = require('node:path')
const dir = process.argv[2]
const problems = []
const files = []
const walk = (d) => {
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name)
    if (e.isDirectory()) walk(p)
    else files.push(path.relative(dir, p).split(path.sep).join('/'))
  }
}
walk(dir)
const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
if (pkg.private) problems.push('package.json says private')
if (!pkg.license || pkg.license === 'UNLICENSED') problems.push(`licence ${pkg.license ?? '(none)'}`)
if (!files.includes('LICENSE')) problems.push('no LICENSE file')
if (pkg.type !== 'module') problems.push('not "type": "module"')
const allowed = /^(package\.json|README\.md|LICENSE|dist\/[\w.-]+\.(js|d\.ts|js\.map|d\.ts\.map)|src\/[\w.-]+\.ts)$/
for (const f of files) if (!allowed.test(f)) problems.push(`unexpected file ${f}`)
for (const f of files.filter((f) => /^src\/.*\.test\.ts$/.test(f))) problems.push(`a test in the tarball: ${f}`)
// every target the exports map (and main/types) names must be in the tarball
const root = pkg.exports?.['.']
if (!root || typeof root !== 'object') problems.push('no exports["."] conditions')
else {
  if (!root.types || !root.default) problems.push('exports["."] needs "types" and "default"')
  const keys = Object.keys(root)
  if (keys.indexOf('types') > keys.indexOf('default')) problems.push('"types" must come before "default" in exports["."]')
  for (const [cond, target] of Object.entries(root)) if (!fs.existsSync(path.join(dir, target))) problems.push(`exports["."]["${cond}"] → ${target} is missing`)
}
for (const field of ['main', 'types']) if (pkg[field] && !fs.existsSync(path.join(dir, pkg[field]))) problems.push(`${field} → ${pkg[field]} is missing`)
// every compiled module has its declarations; every source map's sources are in the tarball
for (const f of files.filter((f) => /^dist\/.*\.js$/.test(f))) {
  if (!files.includes(f.replace(/\.js$/, '.d.ts'))) problems.push(`${f} has no .d.ts`)
}
for (const f of files.filter((f) => f.endsWith('.map'))) {
  const map = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))
  for (const s of map.sources ?? []) {
    const resolved = path.resolve(path.dirname(path.join(dir, f)), map.sourceRoot ?? '', s)
    if (!resolved.startsWith(dir + path.sep) || !fs.existsSync(resolved)) problems.push(`${f}: source ${s} is not in the tarball`)
  }
}
// the package may import only itself, node: built-ins and what it declares
const declared = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})])
for (const f of files.filter((f) => /^dist\/.*\.(js|d\.ts)$/.test(f))) {
  const text = fs.readFileSync(path.join(dir, f), 'utf8')
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"]([^'"]+)['"]/g)) {
    const spec = m[1]
    if (spec.startsWith('node:')) continue
    if (spec.startsWith('.')) {
      const target = path.resolve(path.dirname(path.join(dir, f)), spec)
      const candidates = f.endsWith('.d.ts') ? [target.replace(/\.js$/, '.d.ts')] : [target]
      if (!target.startsWith(path.join(dir, 'dist') + path.sep) || !candidates.some((c) => fs.existsSync(c))) problems.push(`${f} imports ${spec}: not in dist/`)
      continue
    }
    const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]
    if (!declared.has(name)) problems.push(`${f} imports ${spec}, not a dependency`)
  }
}
if (problems.length > 0) {
  for (const p of problems) console.error(`  - ${p}`)
  process.exit(1)
}
console.log(`     ${pkg.name}@${pkg.version} (${pkg.license}): ${files.length} files — ${files.filter((f) => f.startsWith('dist/')).length} in dist/, ${files.filter((f) => f.startsWith('src/')).length} in src/`)
EOF

if [ "$mode" = pack-only ]; then
  echo "verifier package check (pack only) passed in $((SECONDS - started))s"
  exit 0
fi

# --- a brand-new consumer project outside the repository -----------------------------------------
consumer="$work/consumer"
mkdir -p "$consumer"
step "new project in $consumer: npm install <tarball> fastify@5"
(
  cd "$consumer"
  npm init -y >/dev/null
  npm pkg set type=module
  npm pkg set private=true --json
  # retried as a whole: the registry sometimes cuts a response body off half-way
  npm install --no-audit --no-fund "$tarball" fastify@5 || { sleep 15; npm install --no-audit --no-fund "$tarball" fastify@5; }
) >"$work/install.log" 2>&1 || fail "npm install of the tarball failed"
resolved=$(cd "$consumer" && node --input-type=module -e "console.log(import.meta.resolve('@token-authority/fastify-verifier'))")
case "$resolved" in
  "file://$consumer/node_modules/@token-authority/fastify-verifier/dist/index.js") echo "     resolves to $resolved" ;;
  *) fail "the package resolved to $resolved, not the installed tarball's dist/index.js" ;;
esac

step "type-check a consumer .ts file against the package's types (typescript@5, NodeNext and bundler resolution)"
(cd "$consumer" && { npm install --no-audit --no-fund --save-dev typescript@5 @types/node@20 ||
  { sleep 15; npm install --no-audit --no-fund --save-dev typescript@5 @types/node@20; }; }) >>"$work/install.log" 2>&1 ||
  fail "npm install of typescript failed"
cat >"$consumer/consumer.ts" <<'EOF'
import Fastify from 'fastify'
import tokenVerifier, { tokenShapeOk, VerifierError, VerifierOptionsError, type AuthInfo, type VerifierOptions } from '@token-authority/fastify-verifier'

const options: VerifierOptions = {
  authorityUrl: 'http://127.0.0.1:3000',
  credential: 'service-token',
  cache: { ttlSeconds: 1, max: 100 },
  timeoutMs: 500,
  revocations: { degradedTtlSeconds: 1, failClosed: false, reconnect: { minMs: 100, maxMs: 5000 } }
}
const app = Fastify()
await app.register(tokenVerifier, options)
app.get('/orders', { config: { scopes: ['orders:read'] } }, async (request) => {
  const auth: AuthInfo | null = request.auth
  const scopes: readonly string[] = auth?.scopes ?? []
  const expires: number | null = auth?.expiresAt ?? null
  return { subject: auth?.subject, scopes, expires }
})
app.post('/orders', { onRequest: [app.requireScopes('orders:write')] }, async () => ({ created: true }))
app.get('/health', { config: { public: true } }, async () => ({ ok: true }))
const hits: number = app.tokenVerifier.stats.hits
const calls: number = app.tokenVerifier.stats.authorityCalls()
app.tokenVerifier.clearCache()
const streamState: string = app.tokenVerifier.revocationStream.state
const evicted: number = app.tokenVerifier.stats.evictedByRevocation
app.tokenVerifier.revocationStream.events.on('reset', () => app.tokenVerifier.clearCache())
const shaped: boolean = tokenShapeOk('tka_pat_x', 'tka')
const code: 'FST_TA_VERIFIER_OPTIONS' = new VerifierOptionsError('x').code
const status: number = new VerifierError('insufficient_scope', 'x', { scope: 'orders:write' }).statusCode

// The types are real, not `any`: each of these must be an error (an unused @ts-expect-error fails).
// @ts-expect-error cache.ttlSeconds is a number
const wrongTtl: VerifierOptions = { authorityUrl: 'http://x', credential: 'y', cache: { ttlSeconds: '1' } }
// @ts-expect-error the Redis invalidation option is gone
const redis: VerifierOptions = { authorityUrl: 'http://x', credential: 'y', invalidation: { redisUrl: 'redis://x' } }
// @ts-expect-error revocations.failClosed is a boolean
const wrongFailClosed: VerifierOptions = { authorityUrl: 'http://x', credential: 'y', revocations: { failClosed: 'yes' } }
// @ts-expect-error credential is required
const noCredential: VerifierOptions = { authorityUrl: 'http://x' }
// @ts-expect-error request.auth has no such field
app.get('/x', async (request) => request.auth?.notAField)
// @ts-expect-error route config scopes are strings
app.get('/y', { config: { scopes: [1] } }, async () => ({}))

export { hits, calls, streamState, evicted, shaped, code, status, wrongTtl, noCredential, redis, wrongFailClosed }
EOF
for resolution in NodeNext Bundler; do
  if [ "$resolution" = NodeNext ]; then module=NodeNext; else module=ESNext; fi
  (cd "$consumer" && npx --no-install tsc --noEmit --strict --skipLibCheck false --target ES2022 --lib ES2023 --types node \
    --module "$module" --moduleResolution "$resolution" consumer.ts) >"$work/tsc-$resolution.log" 2>&1 ||
    fail "the consumer does not type-check with --moduleResolution $resolution: $(cat "$work/tsc-$resolution.log")"
done
cat >"$consumer/types-from.mjs" <<'EOF'
import ts from 'typescript'
const r = ts.resolveModuleName('@token-authority/fastify-verifier', `${process.cwd()}/consumer.ts`, { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext }, ts.sys)
console.log(r.resolvedModule?.resolvedFileName ?? 'unresolved')
EOF
types_from=$(cd "$consumer" && node types-from.mjs)
[ "$types_from" = "$consumer/node_modules/@token-authority/fastify-verifier/dist/index.d.ts" ] ||
  fail "TypeScript takes the package's types from $types_from"
echo "     types: $types_from"

# --- a live authority from this repository -------------------------------------------------------
# milliseconds since the epoch, without starting a process where bash has EPOCHREALTIME (5.0+)
now_ms() {
  if [ -n "${EPOCHREALTIME:-}" ]; then
    local t=${EPOCHREALTIME/[.,]/}
    echo $((10#$t / 1000))
  else
    node -p 'Date.now()'
  fi
}
free_port() { node -e 'const s=require("node:net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_http() {
  local url=$1 what=$2 pid=$3
  for _ in $(seq 1 150); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || fail "$what exited"
    sleep 0.2
  done
  fail "$what did not answer $url within 30 s"
}
json_field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{let v;try{v=JSON.parse(s)}catch{console.error(s);process.exit(1)}const k=process.argv[1].split(".").reduce((o,k)=>o?.[k],v);if(k===undefined){console.error(s);process.exit(1)}console.log(typeof k==="string"?k:JSON.stringify(k))})' "$1"; }
# api METHOD PATH BEARER JSON-BODY EXPECTED-STATUS: prints the response body
api() {
  local out status
  out="$work/api-$RANDOM.json"
  status=$(curl -sS -o "$out" -w '%{http_code}' -X "$1" "$A$2" -H "authorization: Bearer $3" -H 'content-type: application/json' ${4:+-d "$4"})
  [ "$status" = "$5" ] || fail "$1 $2 answered $status, expected $5: $(cat "$out")"
  cat "$out"
}

if [ "${SKIP_BUILD:-}" = 1 ]; then
  step "authority: using dist/ as it is (SKIP_BUILD=1)"
else
  step "authority: npm run build"
  (cd "$root" && npm run build --silent) >"$work/build.log" 2>&1 || fail "npm run build failed"
fi
[ -f "$root/dist/services/authority/src/server.js" ] || fail "no dist/services/authority/src/server.js (build the authority)"

authority_port=$(free_port)
A="http://127.0.0.1:$authority_port"
authority_env=(DATA_DIR="$work/data" PORT="$authority_port" HOST=127.0.0.1 METRICS_PORT=0 SHUTDOWN_DELAY_MS=0 LOG_LEVEL=warn BCRYPT_COST=4)
step "authority: start on the embedded default at $A"
mkdir -p "$work/data"
(cd "$root" && exec env "${authority_env[@]}" node dist/services/authority/src/server.js) >"$work/authority.log" 2>&1 &
authority_pid=$!
wait_http "$A/readyz" authority "$authority_pid"

step "authority: create-admin, log in, service account + token (tokens:introspect, tokens:revocations), a PAT with tokens:read"
admin_password=$(cd "$root" && env "${authority_env[@]}" node dist/scripts/authority-cli.js create-admin --username admin --json | json_field password) ||
  fail "create-admin failed"
admin_token=$(curl -sS -X POST "$A/v1/auth/admin/token" -H 'content-type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$admin_password\"}" | json_field access_token) || fail "admin login failed"
service_id=$(api POST /v1/accounts "$admin_token" \
  "{\"username\":\"orders-api\",\"password\":\"orders-api-password-1\",\"kind\":\"service\",\"permissions\":[\"tokens:introspect\",\"tokens:introspect:reason\",\"tokens:revocations\"],\"current_password\":\"$admin_password\"}" 201 |
  json_field id)
service_token=$(api POST "/v1/accounts/$service_id/tokens" "$admin_token" \
  "{\"name\":\"orders-api verifier\",\"scopes\":[\"tokens:introspect\",\"tokens:introspect:reason\",\"tokens:revocations\"],\"password\":\"$admin_password\"}" 201 |
  json_field access_token)
pat_json=$(api POST /v1/tokens "$admin_token" "{\"name\":\"package check\",\"scopes\":[\"tokens:read\"],\"password\":\"$admin_password\"}" 201)
pat=$(echo "$pat_json" | json_field access_token)
pat_id=$(echo "$pat_json" | json_field token.id)

# --- the consumer's server, from the installed tarball -------------------------------------------
cat >"$consumer/server.mjs" <<'EOF'
import Fastify from 'fastify'
import tokenVerifier from '@token-authority/fastify-verifier'

const app = Fastify({ logger: { level: 'warn' } })
await app.register(tokenVerifier, {
  authorityUrl: process.env.AUTHORITY_URL,
  credential: process.env.SERVICE_TOKEN,
  cache: { ttlSeconds: Number(process.env.CACHE_TTL_SECONDS) },
  revocations: { degradedTtlSeconds: 1 },
  timeoutMs: 500,
  retryAfterSeconds: 3
})
app.get('/health', { config: { public: true } }, async () => ({ ok: true }))
app.get('/tokens', { config: { scopes: ['tokens:read'] } }, async (request) => ({
  subject: request.auth.subject,
  username: request.auth.username,
  scopes: request.auth.scopes
}))
app.post('/tokens', { onRequest: [app.requireScopes('tokens:write')] }, async () => ({ created: true }))
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
console.log(`consumer up, revocation stream ${app.tokenVerifier.revocationStream.state}, plugin from ${import.meta.resolve('@token-authority/fastify-verifier')}`)
EOF
ttl=30
consumer_port=$(free_port)
C="http://127.0.0.1:$consumer_port"
step "consumer: node server.mjs at $C (cache.ttlSeconds $ttl)"
(cd "$consumer" && AUTHORITY_URL="$A" SERVICE_TOKEN="$service_token" CACHE_TTL_SECONDS=$ttl PORT="$consumer_port" exec node server.mjs) >"$work/consumer.log" 2>&1 &
consumer_pid=$!
wait_http "$C/health" consumer "$consumer_pid"

# probe METHOD PATH [TOKEN]: sets $code, $body, $challenge
probe() {
  local headers="$work/probe-headers"
  code=$(curl -sS -o "$work/probe-body" -D "$headers" -w '%{http_code}' -X "$1" "$C$2" ${3:+-H "authorization: Bearer $3"})
  body=$(cat "$work/probe-body")
  challenge=$(grep -i '^www-authenticate:' "$headers" | tr -d '\r' | cut -d' ' -f2- || true)
}
expect() {
  local want=$1 what=$2
  [ "$code" = "$want" ] || fail "$what: got $code, expected $want ($body)"
  echo "     $what → $code${challenge:+ ($challenge)}"
}

step "consumer: protected routes against the live authority"
probe GET /tokens
expect 401 "GET /tokens without a token"
[ "$challenge" = 'Bearer realm="token-authority"' ] || fail "bare challenge expected, got: $challenge"
probe GET /tokens "$pat"
expect 200 "GET /tokens with the PAT (tokens:read)"
[ "$(echo "$body" | json_field username)" = admin ] || fail "request.auth.username is not admin: $body"
probe POST /tokens "$pat"
expect 403 "POST /tokens with the PAT (needs tokens:write)"
case "$challenge" in *'error="insufficient_scope"'*'scope="tokens:write"'*) ;; *) fail "no insufficient_scope challenge: $challenge" ;; esac
probe POST /tokens "$admin_token"
expect 200 "POST /tokens with the admin's login token (tokens:write)"
probe GET /tokens "tka_pat_not-a-token"
expect 401 "GET /tokens with a token of the wrong shape"

grep -q 'revocation stream live' "$work/consumer.log" || fail "the consumer's revocation stream is not live: $(cat "$work/consumer.log")"
step "revoke the PAT at the authority; the consumer must refuse it within 1 s through the revocation stream (cache.ttlSeconds $ttl s)"
probe GET /tokens "$pat"
expect 200 "GET /tokens with the PAT (cached)"
api DELETE "/v1/tokens/$pat_id" "$admin_token" "{\"password\":\"$admin_password\"}" 200 >/dev/null
revoked_at=$(now_ms)
while :; do
  probe GET /tokens "$pat"
  [ "$code" = 200 ] || break
  [ $(($(now_ms) - revoked_at)) -le 3000 ] || fail "the revoked PAT still passes 3 s after the revoke"
  sleep 0.05
done
delay=$(($(now_ms) - revoked_at))
expect 401 "GET /tokens with the revoked PAT, ${delay} ms after the revoke"
[ "$delay" -le 1000 ] || fail "revocation took ${delay} ms through the stream, more than 1 s"
case "$challenge" in *'has been revoked'*) ;; *) fail "the challenge does not say revoked: $challenge" ;; esac

step "stop the authority; the consumer fails closed once its cached answer is older than degradedTtlSeconds (1 s)"
kill "$authority_pid"
wait "$authority_pid" 2>/dev/null || true
authority_pid=''
sleep 2
probe GET /tokens "$admin_token"
expect 503 "GET /tokens with the admin's login token, authority down"
grep -qi '^retry-after: 3' "$work/probe-headers" || fail "no Retry-After: 3 on the 503"

echo "verifier package check passed in $((SECONDS - started))s"

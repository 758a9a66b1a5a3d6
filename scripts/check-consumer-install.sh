#!/usr/bin/env bash
# docs/api.md's "A consumer team's TypeScript client", done as a consumer does it, so a line that
# stops working against the registry fails here. The commands are read from docs/api.md itself
# (the two ```sh blocks and the ```ts block after that paragraph), never copied into this script.
# Both projects start as a new TypeScript project does today (npm init, "type": "module", a strict
# tsconfig, `npm i -D typescript`: npm's latest, TypeScript 7 now; a bare `npm i -D
# openapi-typescript` fails next to it, the line this check was written for):
#   1. the first block's lines (the client, the generator, the TypeScript they pin; generate);
#   2. a project that stays on that TypeScript: the first block's openapi-fetch, then the second
#      block's line (npx with the generator and its TypeScript on the side);
#   each generates from the committed openapi/openapi.json (the doc's http://…/openapi.json URL is
#   replaced by that file) and compiles with the project's own tsc: the doc's ```ts example and a
#   consumer file typed with the generated introspection response (@ts-expect-error lines make
#   sure the types are not `any`);
#   3. a note (not a failure) when the doc's reason for the pin no longer holds: a bare
#      `npm i -D openapi-typescript` next to npm's latest TypeScript stops with ERESOLVE.
# Only `npm …` / `npx …` commands are run from the doc; no install scripts run.
#
#   bash scripts/check-consumer-install.sh     (or npm run openapi:consumer-check; needs the npm registry)
#
# Environment: KEEP_TMP=1 keeps the temporary folder. Prints one line per step; the last line says
# "consumer install check passed" or what failed (with the output of the failing command).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
doc="$root/docs/api.md"
document="$root/openapi/openapi.json"
case "${1:-}" in
  '') ;;
  -h | --help)
    sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "usage: $0" >&2
    exit 2
    ;;
esac

started=$SECONDS
step_no=0
step() {
  step_no=$((step_no + 1))
  printf '[%2d] %s (%ds)\n' "$step_no" "$*" $((SECONDS - started))
}
# fail MESSAGE: also from a $(…) subshell, so the message goes through a file
fail() {
  [ -d "${work:-}" ] && printf '%s\n' "$*" >"$work/failure"
  exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/consumer-install-check.XXXXXX")
work=$(cd "$work" && pwd -P)
case "$work/" in "$(cd "$root" && pwd -P)"/*) fail "the temporary folder $work is inside the repository" ;; esac
cleanup() {
  local rc=$?
  trap - EXIT
  if [ "$rc" -ne 0 ]; then
    if [ -f "$work/last.log" ]; then
      echo "---- output of the failing command ----" >&2
      tail -n 40 "$work/last.log" >&2
    fi
    echo "consumer install check FAILED after $((SECONDS - started))s: $(cat "$work/failure" 2>/dev/null || echo "exit $rc")" >&2
  fi
  if [ "${KEEP_TMP:-}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A consumer's npm, not this repository's: nothing inherited from an `npm run` that started us
# points npm back at the repository, no funding or audit chatter, no install scripts.
unset npm_config_local_prefix npm_config_prefix npm_config_global_prefix npm_package_json
export npm_config_fund=false npm_config_audit=false npm_config_ignore_scripts=true npm_config_update_notifier=false

# --- the doc's blocks ------------------------------------------------------------------------------
step "read docs/api.md: the sh and ts blocks after \"A consumer team's TypeScript client\""
mkdir "$work/doc"
node - "$doc" "$work/doc" <<'EOF' || fail "docs/api.md: the consumer's blocks are not where this check expects them (see above)"
const fs = require('node:fs')
const [doc, out] = process.argv.slice(2)
const lines = fs.readFileSync(doc, 'utf8').split('\n')
const anchor = "**A consumer team's TypeScript client**"
const start = lines.findIndex((l) => l.startsWith(anchor))
if (start < 0) {
  console.error(`no line starting with ${anchor}`)
  process.exit(1)
}
const blocks = []
let open = null
for (let i = start + 1; i < lines.length; i++) {
  const line = lines[i]
  if (open === null && /^#{1,3} /.test(line)) break // the next section
  const fence = /^```(\w*)\s*$/.exec(line)
  if (fence && open === null) open = { lang: fence[1], body: [] }
  else if (fence && open !== null) {
    blocks.push(open)
    open = null
  } else if (open !== null) open.body.push(line)
}
const sh = blocks.filter((b) => b.lang === 'sh')
const ts = blocks.filter((b) => b.lang === 'ts')
if (sh.length !== 2 || ts.length !== 1) {
  console.error(`expected two sh blocks (a new project; a project staying on npm's latest TypeScript) and one ts block, found ${blocks.map((b) => b.lang || '(none)').join(', ') || 'none'}`)
  process.exit(1)
}
fs.writeFileSync(`${out}/new-project.sh`, `${sh[0].body.join('\n')}\n`)
fs.writeFileSync(`${out}/latest-project.sh`, `${sh[1].body.join('\n')}\n`)
fs.writeFileSync(`${out}/usage.ts`, `${ts[0].body.join('\n')}\n`)
EOF

# commands FILE: the commands of a block, one a line (a line's `a && b` is two), comments and blank
# lines dropped; only plain `npm …` / `npx …` commands are accepted
commands() {
  local line cmd plain='^np[mx] [-A-Za-z0-9@./:_= ]+$'
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line%%#*}
    line=$(sed 's/^[[:space:]]*//; s/[[:space:]]*$//' <<<"$line")
    [ -n "$line" ] || continue
    while IFS= read -r cmd; do
      cmd=$(sed 's/^[[:space:]]*//; s/[[:space:]]*$//' <<<"$cmd")
      [[ $cmd =~ $plain ]] ||
        fail "docs/api.md: '$cmd' is not a plain npm/npx command; this check runs only those"
      printf '%s\n' "$cmd"
    done < <(sed 's/ && /\n/g' <<<"$line")
  done <"$1"
}

# run DIR COMMAND: one command of the doc in DIR, the committed document in place of the URL
run() {
  local dir=$1 cmd=$2 actual
  actual=$(sed -E "s#https?://[^ ]+/openapi\.json#$document#g" <<<"$cmd")
  step "  \$ $cmd"
  (cd "$dir" && bash -c "$actual") </dev/null >"$work/last.log" 2>&1 || fail "docs/api.md's line failed: $cmd"
}

# the generator's output file (-o) of the block's generate line; the consumer's files go beside it
output_of() {
  local out
  out=$(grep -E 'openapi-typescript .*/openapi\.json' <<<"$1" | sed -nE 's/.* (-o|--output) +([^ ]+).*/\2/p' | head -n 1)
  [ -n "$out" ] || fail "docs/api.md: no 'openapi-typescript <…/openapi.json> -o <file>' line in: $(tr '\n' ';' <<<"$1")"
  printf '%s\n' "$out"
}

new_cmds=$(commands "$work/doc/new-project.sh")
latest_cmds=$(commands "$work/doc/latest-project.sh")
new_out=$(output_of "$new_cmds")
latest_out=$(output_of "$latest_cmds")
fetch_spec=$(grep -oE 'openapi-fetch@[^ ]+' <<<"$new_cmds" | head -n 1) ||
  fail "docs/api.md: the first block installs no openapi-fetch@<version>"

# a new TypeScript project: package.json ("type": "module"), a strict tsconfig, npm's latest TypeScript
new_project() {
  local dir=$1
  mkdir -p "$dir"
  (cd "$dir" && npm init -y && npm pkg set type=module && npm i -D typescript) </dev/null >"$work/last.log" 2>&1 ||
    fail "a new TypeScript project in $dir (npm init -y, npm i -D typescript) failed"
  cat >"$dir/tsconfig.json" <<'EOF'
{
  "compilerOptions": {
    "target": "es2022",
    "module": "nodenext",
    "moduleResolution": "nodenext",
    "strict": true,
    "noUncheckedIndexedAccess": true,
    "noEmit": true
  },
  "include": ["src"]
}
EOF
}

# consumer_files DIR SCHEMA: the doc's ts example and a file using the generated types, beside SCHEMA
consumer_files() {
  local dir=$1 schema=$2 src
  src=$(dirname "$dir/$schema")
  [ -f "$dir/$schema" ] || fail "the generator wrote no $schema"
  {
    echo '// what the doc leaves to the reader'
    echo 'declare const token: string'
    echo 'declare const password: string'
    cat "$work/doc/usage.ts"
  } >"$src/doc-example.ts"
  cat >"$src/consumer.ts" <<EOF
import type { components, paths } from './$(basename "${schema%.ts}").js'

type Introspection = paths['/introspect']['post']['responses'][200]['content']['application/json']
type Kind = NonNullable<components['schemas']['Introspection']['token_kind']>

export function describe(info: Introspection): string {
  if (!info.active) return \`inactive (\${info.reason ?? 'no reason given'})\`
  const kind: Kind | undefined = info.token_kind
  return \`\${info.username ?? info.sub ?? '?'}: \${kind ?? '?'} token, scopes \${info.scope ?? ''}\`
}

export const active: Introspection = { active: true, token_kind: 'pat', scope: 'tokens:read', exp: 1_900_000_000 }
// @ts-expect-error \`active\` is required (the generated types are not \`any\`)
export const noActive: Introspection = { scope: 'tokens:read' }
// @ts-expect-error token_kind is one of the enum's values
export const badKind: Introspection = { active: true, token_kind: 'jwt' }
EOF
}

# compile DIR [MAJOR]: the project's own tsc (of that major version when given)
compile() {
  local dir=$1 major=${2:-} version
  version=$(cd "$dir" && ./node_modules/.bin/tsc --version 2>/dev/null | sed -n 's/^Version //p') ||
    fail "no tsc in $dir/node_modules/.bin"
  step "  tsc -p tsconfig.json (TypeScript $version): the doc's ts example and a consumer of the introspection response"
  [ -z "$major" ] || [ "${version%%.*}" = "$major" ] || fail "the project's tsc is $version, not the TypeScript $major the doc installs"
  (cd "$dir" && ./node_modules/.bin/tsc -p tsconfig.json) >"$work/last.log" 2>&1 ||
    fail "the generated types or the doc's example do not compile under TypeScript $version"
}

latest=$(npm view typescript@latest version 2>"$work/last.log") || fail "npm view typescript@latest failed"
# the TypeScript major the first block pins (typescript@5), if it pins one
pinned=$(grep -oE '(^| )typescript@[0-9]+' <<<"$new_cmds" | head -n 1 | sed 's/.*@//' || true)

# --- 1. a new project, the first block ----------------------------------------------------------
step "a new TypeScript project (npm i -D typescript: $latest), then docs/api.md's first block, then compile"
p1="$work/new-project"
new_project "$p1"
while IFS= read -r cmd; do run "$p1" "$cmd"; done <<<"$new_cmds"
consumer_files "$p1" "$new_out"
compile "$p1" "$pinned"

# --- 2. a project that stays on npm's latest TypeScript, the second block -----------------------
step "a project staying on TypeScript $latest: npm i $fetch_spec, then docs/api.md's npx line, then compile"
p2="$work/latest-project"
new_project "$p2"
(cd "$p2" && npm i "$fetch_spec") </dev/null >"$work/last.log" 2>&1 || fail "npm i $fetch_spec failed"
while IFS= read -r cmd; do run "$p2" "$cmd"; done <<<"$latest_cmds"
consumer_files "$p2" "$latest_out"
compile "$p2" "${latest%%.*}"

# --- 3. the reason given for the pin --------------------------------------------------------------
step "the doc's reason for the pin: a bare 'npm i -D openapi-typescript' next to TypeScript $latest (dry run)"
if (cd "$p2" && npm i -D openapi-typescript --dry-run) </dev/null >"$work/bare.log" 2>&1; then
  echo "     note: it now resolves;"
  echo "     docs/api.md's 'Why typescript@5' paragraph no longer holds: revisit the pin (not a failure)"
elif grep -q ERESOLVE "$work/bare.log"; then
  echo "     ERESOLVE, as the doc says"
else
  echo "     note: it failed, but not with ERESOLVE (not a failure): $(grep -m1 'npm error' "$work/bare.log" || true)"
fi
rm -f "$work/last.log"

echo "consumer install check passed in $((SECONDS - started))s: docs/api.md's client lines work against the registry"

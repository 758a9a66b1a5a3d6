#!/usr/bin/env node
/**
 * Offline checks of deploy/Dockerfile and the build context it gets (/.dockerignore). No image is
 * built (there may be no Docker engine and no registry to pull the base from); what can be
 * known from the files is checked:
 *
 *   lint         dockerfile-utils' linter (the one behind the VS Code Docker extension): syntax,
 *                unknown instructions and flags, malformed ports, JSON forms…
 *   base-pinned  every external base image has an explicit tag other than "latest" (or a digest)
 *   user         the final stage ends on a numeric, non-zero USER uid[:gid] (runAsNonRoot can
 *                only verify a number)
 *   no-add       COPY, never ADD (no remote URLs, no archive auto-extraction)
 *   entrypoint   final stage: ENTRYPOINT ["/usr/bin/tini", "--"] and CMD ["node", "dist/…/server.js"],
 *                exec form (a shell as PID 1 swallows SIGTERM and the graceful drain with it)
 *   apt          apt-get update + install -y --no-install-recommends + list cleanup in one RUN
 *   no-secrets   no ENV/ARG that carries a secret (they stay in the image's history)
 *   prod-deps    the runtime stage takes node_modules from a stage that ran npm ci --omit=dev,
 *                installs nothing itself, and copies from the context only package.json
 *   context      every COPY source is in the context; .git, node_modules, dist, data/, .env files,
 *                tests and the dev overlay's generated secrets are not
 *
 *   node check-dockerfile.mjs [--dockerfile deploy/Dockerfile] [--context .] [--fixtures DIR]
 *   node check-dockerfile.mjs --list-context      the files `docker build` would send
 *
 * With --fixtures, each DIR/*.Dockerfile (first line "# expect: rule, …") must be rejected by
 * exactly those rules, checked against the same context.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, relative } from 'node:path'
import { parseArgs } from 'node:util'

const require = createRequire(import.meta.url)
const { DockerfileParser } = require('dockerfile-ast')
const { validate: lint } = require('dockerfile-utils')
const ignore = require('@balena/dockerignore')

const { values: opts } = parseArgs({
  options: {
    dockerfile: { type: 'string', default: 'deploy/Dockerfile' },
    context: { type: 'string', default: '.' },
    fixtures: { type: 'string' },
    'list-context': { type: 'boolean' }
  }
})
const SECRET_NAMES =
  /^(DATABASE_URL|REDIS_URL|TOKEN_SIGNING_KEYS|TOKEN_PEPPER|BOOTSTRAP_ADMIN_PASSWORD)$|PASSWORD|SECRET|PRIVATE_KEY|API_KEY/i
/** Paths that must never reach the builder (probes, whether or not they exist right now). */
const MUST_EXCLUDE = [
  '.git/HEAD',
  '.env',
  '.env.production',
  'services/authority/.env',
  'node_modules/fastify/package.json',
  'services/verifier/node_modules/x/package.json',
  'dist/services/authority/src/server.js',
  'services/verifier/dist/index.js',
  'data/keys.json',
  'data/authority.sqlite',
  'coverage/index.html',
  '.tap/x',
  'test/unit/config.test.ts',
  'deploy/overlays/dev/secrets/token-pepper',
  'deploy/overlays/dev/secrets/database-url',
  'npm-debug.log'
]

const context = opts.context
const ig = ignore().add(
  existsSync(join(context, '.dockerignore')) ? readFileSync(join(context, '.dockerignore'), 'utf8') : ''
)
const negations = readFileSync(join(context, '.dockerignore'), 'utf8')
  .split('\n')
  .filter((l) => l.startsWith('!'))
  .map((l) => l.slice(1).replace(/\/$/, ''))

/** Files of the context under `rel` (pruning ignored directories nothing re-includes). */
function contextFiles(rel = '') {
  const out = []
  const walk = (r) => {
    const abs = join(context, r)
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      const p = r ? `${r}/${e.name}` : e.name
      if (e.isDirectory()) {
        if (ig.ignores(p) && !negations.some((n) => n === p || n.startsWith(`${p}/`))) continue
        walk(p)
      } else if (!ig.ignores(p)) {
        out.push(p)
      }
    }
  }
  const abs = join(context, rel)
  if (!existsSync(abs)) return out
  if (statSync(abs).isFile()) return ig.ignores(rel) ? [] : [rel]
  walk(rel)
  return out
}

function checkDockerfile(text, name) {
  const findings = []
  const fail = (rule, line, message) => findings.push({ rule, where: `${name}:${line + 1}`, message })

  for (const d of lint(text, {})) fail('lint', d.range.start.line, d.message)

  const df = DockerfileParser.parse(text)
  const instructions = df.getInstructions()
  const firstFrom = instructions.findIndex((i) => i.getKeyword() === 'FROM')
  const globalArgs = new Map()
  for (const i of instructions.slice(0, Math.max(firstFrom, 0))) {
    if (i.getKeyword() !== 'ARG') continue
    const [k, ...v] = i.getArgumentsContent().split('=')
    globalArgs.set(k.trim(), v.join('=').trim())
  }
  const expand = (s) => s.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, k) => globalArgs.get(k) ?? `\${${k}}`)

  // stages: { name, from, instructions[] }
  const stages = []
  for (const i of instructions.slice(Math.max(firstFrom, 0))) {
    if (i.getKeyword() === 'FROM') {
      const args = i.getArguments().map((a) => a.getValue())
      const asAt = args.findIndex((a) => a.toUpperCase() === 'AS')
      stages.push({
        name: asAt >= 0 ? args[asAt + 1] : String(stages.length),
        from: expand(args.filter((a) => !a.startsWith('--'))[0] ?? ''),
        line: i.getRange().start.line,
        instructions: []
      })
    } else if (stages.length) {
      stages[stages.length - 1].instructions.push(i)
    }
  }
  if (!stages.length) {
    fail('lint', 0, 'no FROM')
    return findings
  }
  const stageNames = new Set(stages.map((s) => s.name))
  const final = stages[stages.length - 1]

  for (const s of stages) {
    if (stageNames.has(s.from)) continue
    if (s.from.includes('${')) fail('base-pinned', s.line, `base "${s.from}" depends on an ARG with no default`)
    else if (!s.from.includes('@sha256:')) {
      const last = s.from.split('/').pop()
      if (!last.includes(':')) fail('base-pinned', s.line, `base "${s.from}" has no tag`)
      else if (last.endsWith(':latest')) fail('base-pinned', s.line, `base "${s.from}" is :latest`)
    }
  }

  const kw = (s, k) => s.instructions.filter((i) => i.getKeyword() === k)
  const line = (i) => i.getRange().start.line
  const flags = (i) => Object.fromEntries((i.getFlags?.() ?? []).map((f) => [f.getName(), f.getValue()]))
  const sources = (i) =>
    i
      .getArguments()
      .map((a) => a.getValue())
      .slice(0, -1)

  const users = kw(final, 'USER')
  const user = users.at(-1)?.getArgumentsContent().trim()
  if (!user) fail('user', final.line, 'the final stage sets no USER: it would run as root')
  else if (!/^\d+(:\d+)?$/.test(user))
    fail(
      'user',
      line(users.at(-1)),
      `USER ${user}: use a numeric uid[:gid] (Kubernetes runAsNonRoot cannot verify a name)`
    )
  else if (Number(user.split(':')[0]) === 0) fail('user', line(users.at(-1)), 'USER 0 is root')

  for (const s of stages) {
    for (const i of kw(s, 'ADD')) {
      const remote = sources(i).some((a) => /^(https?|git):\/\/|^git@|\.git$/.test(a))
      fail(
        'no-add',
        line(i),
        remote
          ? 'ADD of a remote URL: unpinned, unverified download; fetch with a checksum in RUN or COPY from the context'
          : 'ADD: use COPY (ADD auto-extracts archives)'
      )
    }
    for (const i of [...kw(s, 'ENV'), ...kw(s, 'ARG')]) {
      for (const part of i.getArgumentsContent().split(/\s+/)) {
        const k = part.split('=')[0]
        if (k && SECRET_NAMES.test(k))
          fail(
            'no-secrets',
            line(i),
            `${i.getKeyword()} ${k}: secrets in the image's config or history; mount them at run time (*_FILE)`
          )
      }
    }
    for (const i of kw(s, 'RUN')) {
      const cmd = i.getArgumentsContent()
      if (/apt-get\s+(-\S+\s+)*install/.test(cmd)) {
        if (!/--no-install-recommends/.test(cmd))
          fail('apt', line(i), 'apt-get install without --no-install-recommends')
        if (!/\s-y\b|--yes|--assume-yes/.test(cmd)) fail('apt', line(i), 'apt-get install without -y')
        if (!/apt-get\s+update/.test(cmd))
          fail('apt', line(i), 'apt-get install without apt-get update in the same RUN (stale cached lists)')
        if (!/rm\s+-rf\s+\/var\/lib\/apt\/lists/.test(cmd))
          fail('apt', line(i), 'apt lists not removed in the same RUN')
      }
    }
    for (const i of kw(s, 'COPY')) {
      if (flags(i).from !== undefined) continue
      for (const src of sources(i)) {
        const rel = src.replace(/^\.\//, '').replace(/\/$/, '')
        if (rel === '.' || rel === '') continue
        if (!existsSync(join(context, rel))) fail('context', line(i), `COPY ${src}: not in the repository`)
        else if (contextFiles(rel).length === 0) fail('context', line(i), `COPY ${src}: excluded by .dockerignore`)
      }
    }
  }

  // entrypoint
  const json = (i) => {
    try {
      const v = JSON.parse(i.getArgumentsContent())
      return Array.isArray(v) ? v : undefined
    } catch {
      return undefined
    }
  }
  const ep = kw(final, 'ENTRYPOINT').at(-1)
  const cmd = kw(final, 'CMD').at(-1)
  const epv = ep && json(ep)
  const cmdv = cmd && json(cmd)
  if (!epv)
    fail(
      'entrypoint',
      ep ? line(ep) : final.line,
      'final stage: ENTRYPOINT must be the exec form ["/usr/bin/tini", "--"]'
    )
  else if (!/(^|\/)tini$/.test(epv[0]))
    fail('entrypoint', line(ep), `ENTRYPOINT ${epv[0]}: tini must be PID 1 (signals, zombies)`)
  if (!cmdv)
    fail(
      'entrypoint',
      cmd ? line(cmd) : final.line,
      'final stage: CMD must be the exec form ["node", "dist/services/authority/src/server.js"]'
    )
  else if (cmdv[0] !== 'node' || cmdv[1] !== 'dist/services/authority/src/server.js')
    fail('entrypoint', line(cmd), `CMD ${JSON.stringify(cmdv)}: not "node dist/services/authority/src/server.js"`)

  // production dependencies only
  const ranOmitDev = (stageName, seen = new Set()) => {
    const s = stages.find((x) => x.name === stageName)
    if (!s || seen.has(stageName)) return false
    seen.add(stageName)
    if (
      kw(s, 'RUN').some((i) =>
        /npm\s+(ci|install)\b[^&|;]*--omit[= ]dev|npm\s+prune\b[^&|;]*--omit[= ]dev/.test(i.getArgumentsContent())
      )
    )
      return true
    return ranOmitDev(s.from, seen)
  }
  const nm = kw(final, 'COPY').filter((i) => sources(i).some((p) => /node_modules\/?$/.test(p)))
  if (nm.length === 0) fail('prod-deps', final.line, 'the runtime stage copies no node_modules')
  for (const i of nm) {
    const from = flags(i).from
    if (from === undefined || !ranOmitDev(from))
      fail(
        'prod-deps',
        line(i),
        `node_modules from ${from ?? 'the context'}, not from a stage that ran npm ci --omit=dev`
      )
  }
  for (const i of kw(final, 'RUN'))
    if (/\bnpm\s+(ci|install|i)\b/.test(i.getArgumentsContent()))
      fail('prod-deps', line(i), 'the runtime stage runs npm: install in a build stage and copy the result')
  for (const i of kw(final, 'COPY')) {
    if (flags(i).from !== undefined) continue
    for (const src of sources(i))
      if (!/^(\.\/)?package(-lock)?\.json$/.test(src))
        fail(
          'prod-deps',
          line(i),
          `the runtime stage copies ${src} from the context: only package.json; build output comes from the build stage`
        )
  }
  return findings
}

function checkContext() {
  const findings = []
  for (const p of MUST_EXCLUDE)
    if (!ig.ignores(p))
      findings.push({ rule: 'context', where: '.dockerignore', message: `${p} would be sent to the builder` })
  return findings
}

if (opts['list-context']) {
  // the files `docker build` would send, one per line (emulate-build.sh copies them)
  process.stdout.write(`${contextFiles().join('\n')}\n`)
  process.exit(0)
}

let failed = false
const dockerfile = opts.dockerfile
const own = [
  ...checkContext(),
  ...checkDockerfile(readFileSync(dockerfile, 'utf8'), relative(context, dockerfile) || dockerfile)
]
const files = contextFiles()
const bytes = files.reduce((n, f) => n + statSync(join(context, f)).size, 0)
console.log(
  `${own.length ? 'FAIL' : 'ok  '} ${relative(context, dockerfile)}: lint + ${['base-pinned', 'user', 'no-add', 'entrypoint', 'apt', 'no-secrets', 'prod-deps', 'context'].join(', ')}${own.length ? '' : ' pass'}; build context ${files.length} files, ${(bytes / 1024).toFixed(0)} KiB`
)
for (const f of own) console.log(`       [${f.rule}] ${f.where}: ${f.message}`)
failed ||= own.length > 0

if (opts.fixtures) {
  for (const name of readdirSync(opts.fixtures)
    .filter((n) => n.endsWith('.Dockerfile'))
    .sort()) {
    const text = readFileSync(join(opts.fixtures, name), 'utf8')
    const m = /^#\s*expect:\s*(.+)$/m.exec(text)
    if (!m) throw new Error(`${name}: no "# expect: rule, …" line`)
    const expect = m[1]
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .sort()
    const fired = [...new Set(checkDockerfile(text, name).map((f) => f.rule))].sort()
    const ok = fired.join(',') === expect.join(',')
    failed ||= !ok
    console.log(
      `${ok ? 'ok  ' : 'FAIL'} fixture ${name.padEnd(28)} rejected by [${fired.join(', ')}]${ok ? '' : `, expected exactly [${expect.join(', ')}]`}`
    )
  }
}
process.exit(failed ? 1 : 0)

#!/usr/bin/env node
/**
 * Renders every kustomization under deploy/ with a real kustomize (the one built into kubectl),
 * validates every rendered object against the Kubernetes schemas (schema.mjs) and the house rules
 * (house-rules.mjs), then proves the rules bite: each fixture under fixtures/ is a kustomization
 * that breaks the base in one way and names, on an "# expect:" line, exactly the rule ids that
 * must reject it.
 *
 *   node check-manifests.mjs --kubectl PATH --root DIR [--out DIR]
 *
 * DIR holds a copy of deploy/ (with the dev overlay's secrets generated) and of
 * scripts/deploy-check/fixtures/, at the same relative paths as in the repository.
 * Exit code 0 when every render passes and every fixture is rejected as expected.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { parseArgs } from 'node:util'
import { parse, parseAllDocuments } from 'yaml'
import { houseRules } from './house-rules.mjs'
import { strictCheck, validate } from './schema.mjs'

const { values: opts } = parseArgs({
  options: { kubectl: { type: 'string' }, root: { type: 'string' }, out: { type: 'string' } }
})
if (!opts.kubectl || !opts.root) {
  console.error('usage: check-manifests.mjs --kubectl PATH --root DIR [--out DIR]')
  process.exit(2)
}
const root = opts.root
const deploy = join(root, 'deploy')
const out = opts.out ?? mkdtempSync(join(tmpdir(), 'deploy-check-'))
mkdirSync(join(out, 'rendered'), { recursive: true })

const dirs = (p) =>
  existsSync(p)
    ? readdirSync(p, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort()
    : []
const kustomization = (dir) => parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) ?? {}

// --- what to render: the base, every overlay, and each of them with each optional component
const targets = [{ name: 'base', dir: join(deploy, 'base') }]
for (const o of dirs(join(deploy, 'overlays'))) targets.push({ name: o, dir: join(deploy, 'overlays', o) })
const components = dirs(join(deploy, 'components'))
for (const t of [...targets]) {
  const own = (kustomization(t.dir).components ?? []).map(String)
  for (const c of components) {
    if (own.some((p) => p.endsWith(`components/${c}`))) continue
    const dir = join(deploy, '.checks', `${t.name}+${c}`)
    mkdirSync(dir, { recursive: true })
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ${relative(dir, t.dir)}\ncomponents:\n  - ${relative(dir, join(deploy, 'components', c))}\n`
    )
    targets.push({ name: `${t.name}+${c}`, dir, generatorsFrom: t.dir })
  }
}
const fixturesDir = join(root, 'scripts', 'deploy-check', 'fixtures', 'manifests')
const fixtures = dirs(fixturesDir).map((name) => {
  const dir = join(fixturesDir, name)
  const text = readFileSync(join(dir, 'kustomization.yaml'), 'utf8')
  const m = /^#\s*expect:\s*(.+)$/m.exec(text)
  if (!m) throw new Error(`fixture ${name}: no "# expect: rule, …" line in its kustomization.yaml`)
  return {
    name,
    dir,
    expect: m[1]
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .sort()
  }
})

// --- Secrets created out of band are described by the template: its keys are what pods may read
const templatePath = join(deploy, 'secret.template.yaml')
const template = existsSync(templatePath) ? parse(readFileSync(templatePath, 'utf8')) : undefined
const templateSecrets = new Map()
const templateFindings = []
if (template) {
  for (const m of await validate(template))
    templateFindings.push({ rule: 'schema', object: 'secret.template.yaml', message: m })
  const values = { ...(template.stringData ?? {}), ...(template.data ?? {}) }
  templateSecrets.set(template.metadata?.name, new Set(Object.keys(values)))
  for (const [k, v] of Object.entries(values)) {
    if (!String(v).includes('CHANGE-ME'))
      templateFindings.push({
        rule: 'template-placeholders',
        object: 'secret.template.yaml',
        message: `${k} holds something other than a CHANGE-ME placeholder`
      })
  }
}

function render(dir) {
  const r = spawnSync(opts.kubectl, ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (r.status !== 0) return { error: (r.stderr || r.stdout || `exit ${r.status}`).trim() }
  const docs = parseAllDocuments(r.stdout)
  const objects = []
  for (const d of docs) {
    if (d.errors.length) return { error: d.errors.map((e) => e.message).join('; ') }
    const o = d.toJS()
    if (o === null) continue
    // kustomize wraps long base64 values at 70 columns; the API server's decoder (Go's
    // base64.StdEncoding) skips the newlines, the schema's "byte" format does not.
    if (o.kind === 'Secret' && o.data)
      for (const k of Object.keys(o.data)) o.data[k] = String(o.data[k]).replace(/\s+/g, '')
    objects.push(o)
  }
  return { yaml: r.stdout, objects }
}

async function check(unit) {
  const findings = []
  const r = render(unit.dir)
  if (r.error)
    return { findings: [{ rule: 'render', object: relative(root, unit.dir), message: r.error }], objects: [] }
  writeFileSync(join(out, 'rendered', `${unit.name}.yaml`), r.yaml)
  const generatedSecrets = new Set(
    (kustomization(unit.generatorsFrom ?? unit.dir).secretGenerator ?? []).map((g) => g.name)
  )
  for (const o of r.objects) {
    for (const m of await validate(o))
      findings.push({ rule: 'schema', object: `${o.kind}/${o.metadata?.name ?? '?'}`, message: m })
  }
  findings.push(...houseRules(r.objects, { generatedSecrets, templateSecrets }))
  return { findings, objects: r.objects }
}

const results = []
for (const t of targets) results.push({ ...t, kind: 'target', ...(await check(t)) })
for (const f of fixtures) results.push({ ...f, kind: 'fixture', ...(await check(f)) })

// --- one strict (unknown-field) pass over every distinct object that has a schema
const distinct = new Map()
for (const r of results) {
  for (const o of r.objects) {
    const key = JSON.stringify(o)
    if (!distinct.has(key)) distinct.set(key, { key, obj: o, owners: [] })
    distinct.get(key).owners.push(r)
  }
}
const strictItems = []
for (const d of distinct.values())
  if ((await validate({ ...d.obj })).every((m) => !m.startsWith('no schema'))) strictItems.push(d)
const strict = strictCheck(strictItems, mkdtempSync(join(tmpdir(), 'deploy-check-strict-')))
for (const d of strictItems) {
  for (const f of strict.get(d.key) ?? []) {
    for (const r of d.owners)
      r.findings.push({ rule: f.rule, object: `${d.obj.kind}/${d.obj.metadata?.name ?? '?'}`, message: f.message })
  }
}

// --- report
let failed = false
const pad = (s, n) => String(s).padEnd(n)
const kinds = (objects) => {
  const c = {}
  for (const o of objects) c[o.kind] = (c[o.kind] ?? 0) + 1
  return Object.entries(c)
    .map(([k, n]) => (n > 1 ? `${k}×${n}` : k))
    .join(' ')
}
if (template) {
  const ok = templateFindings.length === 0
  failed ||= !ok
  console.log(
    `${ok ? 'ok  ' : 'FAIL'} ${pad('secret.template.yaml', 24)} Secret template: schema, placeholders only, keys ${[...templateSecrets.values()][0] ? [...[...templateSecrets.values()][0]].join(', ') : ''}`
  )
  for (const f of templateFindings) console.log(`       [${f.rule}] ${f.object}: ${f.message}`)
}
for (const r of results.filter((x) => x.kind === 'target')) {
  const ok = r.findings.length === 0
  failed ||= !ok
  console.log(
    `${ok ? 'ok  ' : 'FAIL'} ${pad(r.name, 24)} ${pad(`${r.objects.length} objects`, 11)} schema + strict + house rules ${ok ? 'pass' : `— ${r.findings.length} problem(s)`}  (${kinds(r.objects)})`
  )
  for (const f of r.findings) console.log(`       [${f.rule}] ${f.object}: ${f.message}`)
}
for (const r of results.filter((x) => x.kind === 'fixture')) {
  const fired = [...new Set(r.findings.map((f) => f.rule))].sort()
  const ok = fired.join(',') === r.expect.join(',')
  failed ||= !ok
  console.log(
    `${ok ? 'ok  ' : 'FAIL'} fixture ${pad(r.name, 28)} rejected by [${fired.join(', ')}]${ok ? '' : `, expected exactly [${r.expect.join(', ')}]`}`
  )
  if (!ok) for (const f of r.findings) console.log(`       [${f.rule}] ${f.object}: ${f.message}`)
}
console.log(
  `manifests: ${targets.length} renders, ${fixtures.length} fixtures, ${strictItems.length} distinct objects type-checked`
)
process.exit(failed ? 1 : 0)

/**
 * Schema validation of rendered objects, offline, two ways:
 *
 * 1. `validate` — the JSON-schema validators kubernetes-models generates from the Kubernetes
 *    OpenAPI spec (types, required fields, enums, formats): `new Deployment(obj).validate()`.
 *    The ServiceMonitor uses @kubernetes-models/prometheus-operator the same way. A kind with no
 *    schema is an error, never a silent pass.
 * 2. `strictCheck` — those schemas allow unknown fields (so did `kubectl apply` before 1.27: a
 *    misspelt `readinesProbe` was dropped without a word). Every object is written as a typed
 *    TypeScript literal (`const o: IDeployment = {…}`) and type-checked with the project's own
 *    TypeScript against the same package's interfaces: excess-property checking rejects every
 *    field the API does not have, at any depth.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)

/** apiVersion + kind → the module exporting its model, and the model's interface name. */
function modelModule(apiVersion, kind) {
  if (apiVersion === 'monitoring.coreos.com/v1') return `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`
  return `kubernetes-models/${apiVersion}/${kind}`
}

const cache = new Map()
async function modelClass(apiVersion, kind) {
  const key = `${apiVersion} ${kind}`
  if (!cache.has(key)) {
    cache.set(
      key,
      import(modelModule(apiVersion, kind)).then(
        (m) => m[kind],
        () => undefined
      )
    )
  }
  return cache.get(key)
}

/** @returns a list of messages (empty when valid) */
export async function validate(obj) {
  if (!obj || typeof obj !== 'object' || typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') {
    return ['not a Kubernetes object (apiVersion and kind required)']
  }
  const Model = await modelClass(obj.apiVersion, obj.kind)
  if (!Model) return [`no schema for ${obj.apiVersion} ${obj.kind}`]
  try {
    new Model(obj).validate()
    return []
  } catch (err) {
    const errors = err.errors ?? err.details
    if (Array.isArray(errors) && errors.length) {
      return errors.map(
        (e) =>
          `${e.instancePath || '/'} ${e.message}${e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : ''}${e.params?.allowedValues ? ` (${e.params.allowedValues.join(', ')})` : ''}`
      )
    }
    return [String(err.message ?? err)]
  }
}

/**
 * Type-checks every object against its kubernetes-models interface in one tsc run.
 * @param items [{ key, obj }] — key identifies the object to the caller
 * @param workDir an empty scratch directory
 * @returns Map key → [{ rule: 'unknown-field' | 'schema', message }]
 */
export function strictCheck(items, workDir) {
  const out = new Map()
  // node_modules for the scratch program: the project's kubernetes-models and this tool's
  // prometheus-operator models (their own imports resolve from their real locations).
  mkdirSync(join(workDir, 'node_modules', '@kubernetes-models'), { recursive: true })
  symlinkSync(
    dirname(require.resolve('kubernetes-models/package.json')),
    join(workDir, 'node_modules', 'kubernetes-models')
  )
  symlinkSync(
    dirname(require.resolve('@kubernetes-models/prometheus-operator/package.json')),
    join(workDir, 'node_modules', '@kubernetes-models', 'prometheus-operator')
  )

  const imports = new Map()
  const lines = []
  const owner = [] // line number (1-based) → item index
  const push = (text, idx) => {
    for (const l of text.split('\n')) {
      lines.push(l)
      owner.push(idx)
    }
  }
  const body = []
  items.forEach(({ obj }, i) => {
    const iface = `I${obj.kind}`
    const alias = `T${imports.size}`
    const mod = modelModule(obj.apiVersion, obj.kind)
    const k = `${mod}#${iface}`
    if (!imports.has(k)) imports.set(k, { mod, iface, alias })
    body.push({ i, alias: imports.get(k).alias, obj })
  })
  for (const { mod, iface, alias } of imports.values())
    push(`import type { ${iface} as ${alias} } from ${JSON.stringify(mod)}`, -1)
  for (const { i, alias, obj } of body) push(`export const o${i}: ${alias} = ${JSON.stringify(obj, null, 2)}`, i)

  writeFileSync(join(workDir, 'objects.ts'), `${lines.join('\n')}\n`)
  writeFileSync(
    join(workDir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: 'ES2022',
        module: 'ESNext',
        moduleResolution: 'Bundler',
        skipLibCheck: true,
        types: []
      },
      files: ['objects.ts']
    })
  )
  const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc')
  const r = spawnSync(process.execPath, [tsc, '-p', workDir, '--pretty', 'false'], { encoding: 'utf8', cwd: workDir })
  if (r.status === 0) return out
  const report = r.stdout + r.stderr
  let current
  for (const raw of report.split('\n')) {
    const m = /^objects\.ts\((\d+),(\d+)\): error (TS\d+): (.*)$/.exec(raw)
    if (m) {
      const line = Number(m[1])
      const idx = owner[line - 1]
      if (idx === undefined || idx < 0) throw new Error(`strict schema check: ${raw}`)
      const excess = m[3] === 'TS2353' || m[3] === 'TS2561'
      const text = `line ${line - lines.findIndex((_, j) => owner[j] === idx)}: ${m[4].replace(/^Object literal may only specify known properties, and /, '')} — ${lines[line - 1].trim()}`
      current = { rule: excess ? 'unknown-field' : 'schema', message: text }
      const key = items[idx].key
      if (!out.has(key)) out.set(key, [])
      out.get(key).push(current)
    } else if (/^\s+/.test(raw) && current) {
      current.message += ` ${raw.trim()}`
    } else if (raw.trim() !== '') {
      throw new Error(`strict schema check: unexpected tsc output: ${raw}`)
    }
  }
  return out
}

export { here }

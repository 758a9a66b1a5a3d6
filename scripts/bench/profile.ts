import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'

/**
 * CPU profile of this process (the servers under test; the load generator is another process)
 * for one scenario's measured run, written as a .cpuprofile (open in Chrome DevTools or
 * speedscope) and summarised as text: self time by function and by module, inclusive time of
 * our own functions.
 */

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}
interface ProfileNode {
  id: number
  callFrame: CallFrame
  hitCount?: number
  children?: number[]
}
export interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples?: number[]
  timeDeltas?: number[]
}

export class CpuProfiler {
  readonly #session = new Session()
  #running = false

  async start(intervalUs = 200): Promise<void> {
    this.#session.connect()
    await this.#session.post('Profiler.enable')
    await this.#session.post('Profiler.setSamplingInterval', { interval: intervalUs })
    await this.#session.post('Profiler.start')
    this.#running = true
  }

  async stop(): Promise<CpuProfile> {
    if (!this.#running) throw new Error('profiler not running')
    const { profile } = (await this.#session.post('Profiler.stop')) as unknown as { profile: CpuProfile }
    await this.#session.post('Profiler.disable')
    this.#session.disconnect()
    this.#running = false
    return profile
  }
}

function shortUrl(url: string): string {
  const cwd = process.cwd()
  let u = url.replace(/^file:\/\//, '')
  if (u.startsWith(`${cwd}/`)) u = u.slice(cwd.length + 1)
  return u
}

/** `node_modules/@scope/pkg/...` → `@scope/pkg`; our files → their path; node internals → `node:…` */
function moduleOf(frame: CallFrame): string {
  const url = shortUrl(frame.url)
  if (url === '') {
    if (frame.functionName.startsWith('(')) return frame.functionName
    return '(native)'
  }
  const nm = url.lastIndexOf('node_modules/')
  if (nm !== -1) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/')
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!
  }
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/')
  return url
}

export interface ProfileSummary {
  totalMs: number
  byModule: { module: string; selfPct: number }[]
  byFunction: { fn: string; selfPct: number }[]
  /** inclusive time of functions in our own sources (services/…) */
  oursInclusive: { fn: string; totalPct: number }[]
}

export function summarize(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map<number, ProfileNode>()
  const parent = new Map<number, number>()
  for (const n of profile.nodes) {
    byId.set(n.id, n)
    for (const c of n.children ?? []) parent.set(c, n.id)
  }
  const samples = profile.samples ?? []
  const deltas = profile.timeDeltas ?? []
  const selfByNode = new Map<number, number>()
  let total = 0
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attribute the next delta to it (close enough)
    const dt = Math.max(0, deltas[i + 1] ?? deltas[i] ?? 0)
    selfByNode.set(samples[i]!, (selfByNode.get(samples[i]!) ?? 0) + dt)
    total += dt
  }
  const fnKey = (f: CallFrame) => `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}:${f.lineNumber + 1}`
  const selfFn = new Map<string, number>()
  const selfMod = new Map<string, number>()
  for (const [id, t] of selfByNode) {
    const f = byId.get(id)!.callFrame
    selfFn.set(fnKey(f), (selfFn.get(fnKey(f)) ?? 0) + t)
    selfMod.set(moduleOf(f), (selfMod.get(moduleOf(f)) ?? 0) + t)
  }
  // inclusive time of our own functions: walk each sampled node's stack once per distinct key
  const oursIncl = new Map<string, number>()
  for (const [id, t] of selfByNode) {
    const seen = new Set<string>()
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame
      if (!shortUrl(f.url).startsWith('services/')) continue
      const k = fnKey(f)
      if (seen.has(k)) continue
      seen.add(k)
      oursIncl.set(k, (oursIncl.get(k) ?? 0) + t)
    }
  }
  const pct = (v: number) => (total > 0 ? (100 * v) / total : 0)
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)
  return {
    totalMs: total / 1000,
    byModule: sorted(selfMod).map(([module, v]) => ({ module, selfPct: pct(v) })),
    byFunction: sorted(selfFn).map(([fn, v]) => ({ fn, selfPct: pct(v) })),
    oursInclusive: sorted(oursIncl).map(([fn, v]) => ({ fn, totalPct: pct(v) }))
  }
}

export function writeProfile(file: string, profile: CpuProfile): void {
  writeFileSync(file, JSON.stringify(profile))
}

export function formatSummary(title: string, s: ProfileSummary): string {
  const lines = [
    `CPU profile of ${title} (${s.totalMs.toFixed(0)} ms sampled, server process)`,
    '  self time by module:'
  ]
  for (const m of s.byModule.slice(0, 15)) lines.push(`    ${m.selfPct.toFixed(1).padStart(5)}%  ${m.module}`)
  lines.push('  self time by function:')
  for (const f of s.byFunction) lines.push(`    ${f.selfPct.toFixed(1).padStart(5)}%  ${f.fn}`)
  lines.push('  inclusive time, our sources:')
  for (const f of s.oursInclusive.slice(0, 15)) lines.push(`    ${f.totalPct.toFixed(1).padStart(5)}%  ${f.fn}`)
  return lines.join('\n')
}

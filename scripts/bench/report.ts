import { isAbsolute, relative, sep } from 'node:path'
import type { LoadResult } from './load-protocol.js'

export interface Row {
  key: string
  /** 1…rounds; 0 for the scenarios run once after the rounds (1M, drift check) */
  round: number
  /** with several rounds: req/s of each, and each round's ratio to that round's baseline */
  rpsRounds?: number[]
  xBaselineRounds?: number[]
  scenario: string
  rps: number
  /** throughput ÷ the POST baseline of the same backend run */
  xBaseline: number | null
  p50Ms: number
  p99Ms: number
  errors: number
  notes: string
  connections: number
  /** peak RSS of the server process during the measured run, MB */
  rssPeakMb: number
  load: LoadResult
  extra?: Record<string, unknown>
}

export interface Target {
  target: string
  measured: string
  met: boolean | null
}

export function errorsOf(r: LoadResult): number {
  return r.errors + r.non2xx + r.mismatches
}

const fmtInt = (n: number) => Math.round(n).toLocaleString('en')
const fmtMs = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : '-')

export function formatTable(title: string, rows: Row[]): string {
  const head = ['scenario', 'req/s', '×baseline', 'p50 ms', 'p99 ms', 'errors', 'notes']
  const body = rows.map((r) => [
    r.scenario,
    fmtInt(r.rps),
    r.xBaseline === null ? '-' : r.xBaseline.toFixed(2),
    fmtMs(r.p50Ms),
    fmtMs(r.p99Ms),
    String(r.errors),
    r.notes
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)))
  const right = new Set([1, 2, 3, 4, 5])
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`
  const sep = `|${widths.map((w, i) => (right.has(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`
  return [`### ${title}`, '', line(head), sep, ...body.map(line)].join('\n')
}

export function formatTargets(targets: Target[]): string {
  return targets
    .map((t) => `- [${t.met === null ? 'n/a' : t.met ? 'met' : 'MISSED'}] ${t.target}: ${t.measured}`)
    .join('\n')
}

export function median(xs: readonly number[]): number {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return NaN
  const m = Math.floor(v.length / 2)
  return v.length % 2 === 1 ? v[m]! : (v[m - 1]! + v[m]!) / 2
}

/**
 * One row per scenario: with several rounds, the round with the median req/s stands for the
 * scenario (its latencies and notes), req/s is the median, ×baseline the median of the per-round
 * ratios (each round against its own baseline), errors the sum.
 */
export function aggregate(rows: readonly Row[]): Row[] {
  const order: string[] = []
  const groups = new Map<string, Row[]>()
  for (const r of rows) {
    if (!groups.has(r.key)) {
      groups.set(r.key, [])
      order.push(r.key)
    }
    groups.get(r.key)!.push(r)
  }
  return order.map((k) => {
    const g = groups.get(k)!
    if (g.length === 1) return g[0]!
    const byRps = [...g].sort((a, b) => a.rps - b.rps)
    const mid = byRps[Math.floor((byRps.length - 1) / 2)]!
    return {
      ...mid,
      rps: median(g.map((r) => r.rps)),
      xBaseline: median(g.map((r) => r.xBaseline ?? NaN)),
      errors: g.reduce((a, r) => a + r.errors, 0),
      rpsRounds: g.map((r) => r.rps),
      xBaselineRounds: g.map((r) => r.xBaseline ?? NaN),
      notes: `median of ${g.length} rounds (${g.map((r) => Math.round(r.rps).toLocaleString('en')).join(' / ')} req/s); ${mid.notes}`
    }
  })
}

// ------------------------------------------------------------------ the results page (docs/)

/** one backend of a results file (bench/results/<time>.json) */
export interface BackendResult {
  backend: string
  rows: Row[]
  allRounds?: Row[]
  targets: Target[]
  seeding: { label: string; tokens: number; seconds: number; rowsPerSecond: number }[]
  memory: Record<string, unknown>
  profiles?: { scenario: string; file: string }[]
}

/** what `npm run bench` writes to bench/results/<time>.json */
export interface ResultFile {
  started: string
  finished: string
  environment: {
    node: string
    platform?: string
    cpus: number
    cpuModel?: string
    memoryGb?: number
    loadavgStart?: number[]
    loadavgEnd?: number[]
    loadGenerator?: string
  }
  settings: {
    duration: number
    warmup: number
    connections: number
    /** absent in files written before the results page existed: read from the rows */
    rounds?: number
    seed: number
    warmSet: number
    seed1m: boolean
    bcryptCost: number
    only: string[] | null
    profile: string | null
  }
  backends: BackendResult[]
}

/** where the bench writes its results page (`--write-docs`, `npm run bench:page`) */
export const RESULTS_PAGE = 'docs/performance-results.md'

/** how the page names its results file: from the repository root, or absolute when outside it */
export function sourceName(root: string, file: string): string {
  const rel = relative(root, file)
  return rel.startsWith('..') || isAbsolute(rel) ? file : rel.split(sep).join('/')
}

export function formatMemory(memory: Record<string, unknown>): string {
  const mem = (memory.cachePerEntry ?? {}) as Record<string, number | string>
  const perEntry =
    mem.kind === 'redis'
      ? `Redis ${Number(mem.bytesPerEntryInfo).toFixed(0)} B/token by INFO used_memory over ${mem.entries} entries (MEMORY USAGE ${Number(mem.bytesPerEntryMemoryUsage).toFixed(0)} B/key, value ${mem.valueBytes} B)`
      : `in-process LRU ≈ ${Number(mem.bytesPerEntryHeap).toFixed(0)} B/token of V8 heap over ${mem.entries} entries`
  return `Memory: cache ${perEntry}; server-process RSS ${Number(memory.rssAfterSeedMb).toFixed(0)} MB after seeding, peak ${Number(memory.rssPeakUnderLoadMb).toFixed(0)} MB under load (same process as the harness, orders demo and peer)`
}

export function formatSeeding(seeding: BackendResult['seeding']): string {
  return `Seeding: ${seeding.map((s) => `${s.label} in ${s.seconds.toFixed(1)} s (${Math.round(s.rowsPerSecond).toLocaleString('en')} rows/s)`).join('; ')}`
}

/** the rounds of a run: the setting, else the most rounds a row was measured in */
function roundsOf(result: ResultFile): number {
  if (result.settings.rounds !== undefined) return result.settings.rounds
  return Math.max(1, ...result.backends.flatMap((b) => b.rows.map((r) => r.rpsRounds?.length ?? 1)))
}

/** the command line that repeats this run (options at their defaults left out) */
export function commandOf(result: ResultFile): string {
  const s = result.settings
  const opts: string[] = []
  if (s.duration !== 5) opts.push(`--duration ${s.duration}`)
  if (s.warmup !== 2) opts.push(`--warmup ${s.warmup}`)
  if (s.connections !== 32) opts.push(`--connections ${s.connections}`)
  const rounds = roundsOf(result)
  if (rounds !== 1) opts.push(`--rounds ${rounds}`)
  if (s.seed !== 10_000) opts.push(`--seed ${s.seed}`)
  if (s.warmSet !== Math.min(s.seed, 10_000)) opts.push(`--warm-set ${s.warmSet}`)
  if (s.seed1m) opts.push('--seed-1m')
  if (s.bcryptCost !== 12) opts.push(`--bcrypt-cost ${s.bcryptCost}`)
  const names = result.backends.map((b) => b.backend)
  opts.push(`--backend ${names.length > 1 ? 'all' : names[0] === 'mysql+redis' ? 'mysql' : 'embedded'}`)
  if (s.only) opts.push(`--only ${s.only.join(',')}`)
  if (s.profile) opts.push(`--profile ${s.profile}`)
  return `npm run bench -- ${opts.join(' ')}`
}

/** how this run falls short of the full one the performance page quotes (empty: it does not) */
export function partialReasons(result: ResultFile): string[] {
  const s = result.settings
  const out: string[] = []
  if (s.only) out.push(`only some scenarios (${s.only.join(', ')})`)
  if (s.duration < 5 || s.warmup < 2) out.push(`short runs (${s.warmup} s warm-up + ${s.duration} s measured)`)
  if (s.seed < 10_000) out.push(`a small seed (${s.seed.toLocaleString('en')} tokens)`)
  if (!s.seed1m) out.push('no 1M-token scenarios (`--seed-1m`)')
  if (s.bcryptCost !== 12) out.push(`BCRYPT_COST ${s.bcryptCost}, not the deployed 12`)
  if (roundsOf(result) < 3) out.push(`${roundsOf(result)} round(s), not the 3 a shared machine needs`)
  return out
}

const mdCell = (text: string) => text.replace(/\r?\n\s*/g, ' ').replace(/\|/g, '\\|')

function resultsTable(rows: readonly Row[]): string[] {
  const lines = [
    '| scenario | req/s | × baseline | p50 ms | p99 ms | server CPU µs/request | errors | notes |',
    '|---|--:|--:|--:|--:|--:|--:|---|'
  ]
  for (const r of rows) {
    const cpu = r.extra?.cpuPerRequestUs as number | undefined
    lines.push(
      `| ${mdCell(r.scenario)} | ${fmtInt(r.rps)} | ${r.xBaseline === null || !Number.isFinite(r.xBaseline) ? '-' : r.xBaseline.toFixed(2)} | ${fmtMs(r.p50Ms)} | ${fmtMs(r.p99Ms)} | ${cpu === undefined || !Number.isFinite(cpu) ? '-' : fmtInt(cpu)} | ${r.errors} | ${mdCell(r.notes)} |`
    )
  }
  return lines
}

/**
 * docs/performance-results.md from a results file: everything on it comes from the file (nothing
 * is copied by hand), so the same file always gives the same page.
 */
export function resultsPage(result: ResultFile, source: string): string {
  const env = result.environment
  const s = result.settings
  const partial = partialReasons(result)
  const out: string[] = [
    `<!-- Written by the bench (\`npm run bench -- --write-docs\`, or \`npm run bench:page -- ${source}\`) from its results file: rerun the bench, do not edit by hand. -->`,
    '',
    '# Performance results',
    '',
    '[README](../README.md) · [docs](README.md) · [Performance: method, targets and analysis](performance.md)',
    '',
    `Run of ${result.started} (finished ${result.finished}), results file \`${source}\`:`,
    '',
    '```sh',
    commandOf(result),
    '```',
    '',
    `- machine: node ${env.node}, ${env.cpus} × ${env.cpuModel ?? 'unknown CPU'}${env.memoryGb === undefined ? '' : `, ${env.memoryGb} GB`}${env.platform ? `, ${env.platform}` : ''}`,
    `- load average at start ${(env.loadavgStart ?? []).map((l) => l.toFixed(2)).join(' ')}, at the end ${(env.loadavgEnd ?? []).map((l) => l.toFixed(2)).join(' ')}`,
    `- each scenario: ${s.warmup} s warm-up + ${s.duration} s measured, ${s.connections} connections unless noted; BCRYPT_COST ${s.bcryptCost}; ${roundsOf(result)} round(s)${roundsOf(result) > 1 ? ' (req/s the median of the rounds, × baseline the median of each round against its own baseline)' : ''}`,
    `- load generator: ${env.loadGenerator ?? 'autocannon in a child process'}`,
    ''
  ]
  if (partial.length > 0) {
    out.push(`**A partial run**, not comparable with the targets: ${partial.join('; ')}.`, '')
  }
  for (const b of result.backends) {
    out.push(
      `## ${b.backend}`,
      '',
      ...resultsTable(b.rows),
      '',
      '**Targets**',
      '',
      ...b.targets.map((t) => formatTargets([t])),
      '',
      formatMemory(b.memory),
      '',
      formatSeeding(b.seeding),
      ''
    )
  }
  return out.join('\n')
}

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
  const line = (cells: string[]) => '| ' + cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ') + ' |'
  const sep = '|' + widths.map((w, i) => (right.has(i) ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|') + '|'
  return [`### ${title}`, '', line(head), sep, ...body.map(line)].join('\n')
}

export function formatTargets(targets: Target[]): string {
  return targets.map((t) => `- [${t.met === null ? 'n/a' : t.met ? 'met' : 'MISSED'}] ${t.target}: ${t.measured}`).join('\n')
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

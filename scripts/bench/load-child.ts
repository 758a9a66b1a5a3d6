/**
 * The load generator: a child process (forked by load.ts) that runs autocannon jobs sent over IPC,
 * so the server under test keeps its own core. One job at a time; every job is bounded by its
 * duration (autocannon stops itself) and a hard timer.
 */
import autocannon, { type AutocannonClient, type AutocannonRequest, type AutocannonResult } from 'autocannon'
import type { LoadJob, LoadResult, ToChild, FromChild } from './load-protocol.js'

function send(msg: FromChild): void {
  process.send?.(msg)
}

/** Client i gets requests i, i+C, i+2C…: disjoint slices, so no two connections share a token. */
function sliceFor(requests: readonly AutocannonRequest[], i: number, connections: number): AutocannonRequest[] {
  if (requests.length <= connections) return [{ ...requests[i % requests.length]! }]
  const out: AutocannonRequest[] = []
  for (let j = i; j < requests.length; j += connections) out.push({ ...requests[j]! })
  return out
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[idx]!
}

const VERIFIERS: Record<NonNullable<LoadJob['expect']>, (body: string) => boolean> = {
  active: (b) => b.startsWith('{"active":true'),
  inactive: (b) => b.startsWith('{"active":false'),
  any: () => true
}

async function runJob(job: LoadJob): Promise<LoadResult> {
  // Our own latency record at µs resolution (autocannon's histogram keeps whole milliseconds).
  let lat = new Float64Array(1 << 16)
  let n = 0
  let clientNo = 0
  const started = performance.now()
  const cpu0 = process.cpuUsage()
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    const hard = setTimeout(() => reject(new Error(`load job ${job.title} overran`)), (job.duration + 30) * 1000)
    const instance = autocannon(
      {
        url: job.url,
        connections: job.connections,
        duration: job.duration,
        timeout: 10,
        // a placeholder: each client gets its own slice in setupClient (autocannon deep-clones
        // opts per client, so the full list is never passed here)
        requests: [job.requests[0]!],
        setupClient: (client: AutocannonClient) => {
          client.setRequests(sliceFor(job.requests, clientNo++, job.connections))
        },
        ...(job.expect && job.expect !== 'any' ? { verifyBody: VERIFIERS[job.expect] } : {})
      },
      (err, res) => {
        clearTimeout(hard)
        if (err) reject(err)
        else resolve(res)
      }
    )
    instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
      if (n === lat.length) {
        const next = new Float64Array(lat.length * 2)
        next.set(lat)
        lat = next
      }
      lat[n++] = responseTime
    })
  })
  const wall = (performance.now() - started) / 1000
  const cpu = process.cpuUsage(cpu0)
  const sorted = lat.subarray(0, n).sort()
  let sum = 0
  for (let i = 0; i < n; i++) sum += sorted[i]!
  const codes: Record<string, number> = {}
  for (const [code, v] of Object.entries(result.statusCodeStats ?? {})) codes[code] = v.count
  const seconds = result.duration > 0 ? result.duration : wall
  return {
    title: job.title,
    completed: n,
    seconds,
    rps: n / seconds,
    meanMs: n > 0 ? sum / n : NaN,
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    p999Ms: percentile(sorted, 99.9),
    maxMs: n > 0 ? sorted[n - 1]! : NaN,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    mismatches: result.mismatches,
    statusCodes: codes,
    connections: job.connections,
    clientCpu: (cpu.user + cpu.system) / 1e6 / wall
  }
}

process.on('message', (msg: ToChild) => {
  if (msg.type === 'exit') {
    process.exit(0)
  }
  if (msg.type === 'job') {
    runJob(msg.job).then(
      (result) => send({ type: 'result', id: msg.id, result }),
      (err: unknown) => send({ type: 'error', id: msg.id, message: (err as Error).message })
    )
  }
})
// the parent going away ends us too
process.on('disconnect', () => process.exit(0))
send({ type: 'ready' })

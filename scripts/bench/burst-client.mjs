// The load side of `npm run bench:burst` (a child process, so it never shares the server's event
// loop). Reads one job as JSON from argv[2] (or @FILE), prints one JSON result line on stdout.
//
//   {mode:'burst', url, path, headers, bodies, count}        count requests at once, each on its own
//                                                             connection (as many gateways would)
//   {mode:'rate', url, path, headers, bodies, rate, seconds}  open loop: rate req/s for seconds,
//                                                             whatever the answers (keep-alive pool)
//   {mode:'closed', url, path, headers, bodies, connections, seconds}  closed loop: capacity
import { readFileSync } from 'node:fs'
import http from 'node:http'
import { performance } from 'node:perf_hooks'

// the job as JSON, or @FILE holding it (thousands of token bodies do not fit an argument list)
const arg = process.argv[2]
const job = JSON.parse(arg.startsWith('@') ? readFileSync(arg.slice(1), 'utf8') : arg)
const target = new URL(job.url)
const TIMEOUT_MS = job.timeoutMs ?? 15000

function send(agent, i) {
  const body = job.bodies[i % job.bodies.length]
  const t0 = performance.now()
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: job.path,
        method: 'POST',
        agent,
        headers: { ...job.headers, 'content-length': Buffer.byteLength(body) },
        timeout: TIMEOUT_MS
      },
      (res) => {
        res.resume()
        res.on('end', () => resolve({ status: res.statusCode, ms: performance.now() - t0 }))
        res.on('error', () => resolve({ status: 'error', ms: performance.now() - t0 }))
      }
    )
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', (e) =>
      resolve({ status: e.message === 'timeout' ? 'timeout' : 'error', ms: performance.now() - t0 })
    )
    req.end(body)
  })
}

function summary(results, wallMs) {
  const by = {}
  for (const r of results) by[r.status] = (by[r.status] ?? 0) + 1
  const ok = results
    .filter((r) => r.status === 200)
    .map((r) => r.ms)
    .sort((a, b) => a - b)
  const all = results.map((r) => r.ms).sort((a, b) => a - b)
  const q = (xs, p) => (xs.length === 0 ? null : xs[Math.min(xs.length - 1, Math.floor(p * xs.length))])
  return {
    sent: results.length,
    answered: by[200] ?? 0,
    shed: by[503] ?? 0,
    other: results.length - (by[200] ?? 0) - (by[503] ?? 0),
    statuses: by,
    p50Ms: q(ok, 0.5),
    p99Ms: q(ok, 0.99),
    maxMs: q(all, 1),
    wallMs
  }
}

async function main() {
  const t0 = performance.now()
  if (job.mode === 'burst') {
    const agent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY })
    const results = await Promise.all(Array.from({ length: job.count }, (_, i) => send(agent, i)))
    return summary(results, performance.now() - t0)
  }
  if (job.mode === 'closed') {
    const agent = new http.Agent({ keepAlive: true, maxSockets: job.connections })
    const until = t0 + job.seconds * 1000
    const results = []
    let i = 0
    await Promise.all(
      Array.from({ length: job.connections }, async () => {
        while (performance.now() < until) results.push(await send(agent, i++))
      })
    )
    const s = summary(results, performance.now() - t0)
    return { ...s, rps: s.answered / (s.wallMs / 1000) }
  }
  // open loop: a tick every 10 ms sends what the rate owes so far
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.maxSockets ?? 2000 })
  const pending = []
  const end = t0 + job.seconds * 1000
  let sent = 0
  await new Promise((resolve) => {
    const tick = setInterval(() => {
      const now = performance.now()
      const owed = Math.floor(((Math.min(now, end) - t0) / 1000) * job.rate)
      while (sent < owed) pending.push(send(agent, sent++))
      if (now >= end) {
        clearInterval(tick)
        resolve()
      }
    }, 10)
  })
  const results = await Promise.all(pending)
  return { ...summary(results, performance.now() - t0), offeredRps: job.rate }
}

main().then(
  (r) => {
    process.stdout.write(`${JSON.stringify(r)}\n`)
    process.exit(0)
  },
  (e) => {
    process.stderr.write(`${e.stack}\n`)
    process.exit(1)
  }
)

/**
 * Revocation latency at consumers that follow the authority's revocation stream over HTTP (no
 * Redis in any consumer): from a revoke's 200 (or the CLI's exit) to the first 401 at each consumer.
 *
 *   npx tsx --conditions=token-authority-source scripts/bench/revocation-latency.ts [--n 200]
 *
 * Scenarios (each on a private backend, everything in this process on loopback):
 *   mysql+redis   2 authority replicas (one MySQL database, one Redis), 3 consumers (Fastify +
 *                 the verifier plugin, following replicas 1, 2, 1), revokes via DELETE
 *                 /v1/tokens/{id} round-robin on the replicas (needs BENCH_/TEST_DATABASE_URL and
 *                 BENCH_/TEST_REDIS_URL; skipped without)
 *   embedded      1 authority (SQLite, no Redis at all), 3 consumers, revokes via the API
 *   cli/<backend> the same authorities, revokes via `authority-cli revoke-token ID` (run() in
 *                 process: its own database connection, as a separate process would have)
 *   reset         a consumer cut off (TCP proxy) while the log is pruned past its last id: on
 *                 reconnect it gets `reset`, drops its cache, and no revoked token passes
 *
 * For each revocation every consumer has the token cached (one 200 each) before the revoke; after
 * the revoke's response the consumers are polled in a loop (a setImmediate between rounds, so
 * the stream's bytes are read) until each answers 401. Prints p50/p99/max per scenario; asserts
 * only correctness (every revoked token refused at every consumer; none passes after a reset).
 */
import { createServer, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import tokenVerifier, { type VerifierOptions } from '@token-authority/fastify-verifier'
import { bootApp } from '../../services/authority/src/boot.js'
import { loadConfig, type Config } from '../../services/authority/src/config.js'
import { run as cli } from '../authority-cli.js'
import { createBenchBackend, serviceUrlsFromEnv, type BenchBackend } from './backend.js'
import { checkSideBenchArgs } from './args.js'

checkSideBenchArgs(
  process.argv.slice(2),
  `usage: npm run bench:revocations -- [--n 200]
  time from a revocation (API and CLI) until consumers following the stream refuse the token, on the
  embedded default and, with BENCH_/TEST_DATABASE_URL and _REDIS_URL, on MySQL + Redis
exit codes: 0 done, 1 failed, 2 usage error`,
  ['--n']
)
const argN = process.argv.indexOf('--n')
const N = argN > 0 ? Number(process.argv[argN + 1]) : 200
const log = (line: string) => process.stderr.write(`${line}\n`)
const ADMIN_PW = 'admin-password-123'
const USER_PW = 'dana-password-123'
const bearer = (t: string) => ({ authorization: `Bearer ${t}` })
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const tick = () => new Promise((r) => setImmediate(r))

interface Row {
  scenario: string
  replicas: number
  consumers: number
  revocations: number
  samples: number[]
  note: string
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

interface Setup {
  config: Config
  env: Record<string, string>
  replicas: FastifyInstance[]
  urls: string[]
  service: string
  session: string
  close(): Promise<void>
}

async function setup(backend: BenchBackend, replicas: number): Promise<Setup> {
  const env: Record<string, string> = {
    BCRYPT_COST: '4',
    LOG_LEVEL: 'warn',
    PRUNE_INTERVAL_SECONDS: '0',
    LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
    EXTRA_SCOPES: 'orders:read=Read orders',
    ...backend.env
  }
  const config = loadConfig(env as NodeJS.ProcessEnv)
  const apps: FastifyInstance[] = []
  const urls: string[] = []
  for (let i = 0; i < replicas; i++) {
    const { app } = await bootApp(config, { migrate: 'latest', logger: false })
    apps.push(app)
    urls.push(await app.listen({ port: 0, host: '127.0.0.1' }))
  }
  const a = apps[0]!
  await a.authority.accounts.ensureFirstAdmin('root-admin', ADMIN_PW)
  const login = async (realm: string, username: string, password: string) => {
    const res = await a.inject({ method: 'POST', url: `/v1/auth/${realm}/token`, payload: { username, password } })
    if (res.statusCode !== 200) throw new Error(res.body)
    return res.json().access_token as string
  }
  const admin = await login('admin', 'root-admin', ADMIN_PW)
  const mk = async (body: Record<string, unknown>) => {
    const res = await a.inject({
      method: 'POST',
      url: '/v1/accounts',
      headers: bearer(admin),
      payload: { ...body, current_password: ADMIN_PW }
    })
    if (res.statusCode !== 201) throw new Error(res.body)
    return res.json().id as string
  }
  const scopes = ['tokens:introspect', 'tokens:introspect:reason', 'tokens:revocations']
  const svcId = await mk({
    username: 'orders-api',
    password: 'orders-api-password-1',
    kind: 'service',
    permissions: scopes
  })
  const svc = await a.inject({
    method: 'POST',
    url: `/v1/accounts/${svcId}/tokens`,
    headers: bearer(admin),
    payload: { name: 'orders', scopes, password: ADMIN_PW }
  })
  if (svc.statusCode !== 201) throw new Error(svc.body)
  await mk({ username: 'dana', password: USER_PW, kind: 'customer', permissions: ['orders:read', 'tokens:write'] })
  const session = await login('customer', 'dana', USER_PW)
  return {
    config,
    env,
    replicas: apps,
    urls,
    service: svc.json().access_token as string,
    session,
    close: async () => {
      for (const app of apps) await app.close()
    }
  }
}

async function consumer(
  authorityUrl: string,
  credential: string,
  revocations: VerifierOptions['revocations'] = {}
): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(tokenVerifier, { authorityUrl, credential, cache: { ttlSeconds: 30 }, revocations })
  app.get('/orders', { config: { scopes: ['orders:read'] } }, async () => ({ ok: true }))
  await app.ready()
  if (revocations?.stream !== false && app.tokenVerifier.revocationStream.state !== 'live')
    throw new Error(`consumer stream ${app.tokenVerifier.revocationStream.state}`)
  return app
}

async function newToken(s: Setup, i: number): Promise<{ id: string; value: string }> {
  const res = await s.replicas[i % s.replicas.length]!.inject({
    method: 'POST',
    url: '/v1/tokens',
    headers: bearer(s.session),
    payload: { name: `t${i}`, scopes: ['orders:read'], password: USER_PW }
  })
  if (res.statusCode !== 201) throw new Error(res.body)
  return { id: res.json().token.id as string, value: res.json().access_token as string }
}

async function status(c: FastifyInstance, token: string): Promise<number> {
  return (await c.inject({ url: '/orders', headers: bearer(token) })).statusCode
}

/** revokes n tokens one at a time with `revoke`, measuring the first 401 at every consumer */
async function measure(
  s: Setup,
  consumers: FastifyInstance[],
  n: number,
  revoke: (i: number, id: string) => Promise<void>
): Promise<number[]> {
  const samples: number[] = []
  for (let i = 0; i < n; i++) {
    const tok = await newToken(s, i)
    for (const c of consumers) {
      if ((await status(c, tok.value)) !== 200) throw new Error('a fresh token did not pass')
      if ((await status(c, tok.value)) !== 200) throw new Error('a fresh token did not pass (cached)')
    }
    await revoke(i, tok.id)
    const t0 = performance.now()
    const pending = new Set(consumers)
    while (pending.size > 0) {
      for (const c of [...pending]) {
        const st = await status(c, tok.value)
        if (st === 401) {
          const ms = performance.now() - t0
          samples.push(ms)
          if (ms > 1000) log(`  revocation #${i} (token ${tok.id}): ${ms.toFixed(0)} ms at a consumer`)
          pending.delete(c)
        } else if (st !== 200) throw new Error(`unexpected ${st}`)
      }
      if (performance.now() - t0 > 35_000) throw new Error(`token ${tok.id} still passes 35 s after its revoke`)
      await tick()
    }
  }
  return samples
}

function viaApi(s: Setup) {
  return async (i: number, id: string) => {
    const res = await s.replicas[i % s.replicas.length]!.inject({
      method: 'DELETE',
      url: `/v1/tokens/${id}`,
      headers: bearer(s.session),
      payload: { password: USER_PW }
    })
    if (res.statusCode !== 200) throw new Error(`revoke: ${res.statusCode} ${res.body}`)
  }
}

function viaCli(s: Setup) {
  const sink = { write: () => true }
  return async (_i: number, id: string) => {
    let err = ''
    const code = await cli(['revoke-token', id], {
      env: s.env,
      stdout: sink as unknown as NodeJS.WritableStream,
      stderr: {
        write: (x: string) => {
          err += x
          return true
        }
      } as unknown as NodeJS.WritableStream,
      stdin: process.stdin
    } as Parameters<typeof cli>[1])
    if (code !== 0) throw new Error(`cli revoke-token: ${code} ${err}`)
  }
}

/** a TCP proxy we can cut: the consumer's only way to the authority */
async function cuttableProxy(
  target: string
): Promise<{ url: string; cut(): void; restore(): void; close(): Promise<void> }> {
  const { hostname, port } = new URL(target)
  const { connect } = await import('node:net')
  const sockets = new Set<Socket>()
  let open = true
  const server: Server = createServer((client) => {
    if (!open) return client.destroy()
    const upstream = connect(Number(port), hostname)
    sockets.add(client).add(upstream)
    client.pipe(upstream).pipe(client)
    const done = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('error', done).on('close', done)
    upstream.on('error', done).on('close', done)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut() {
      open = false
      for (const sock of sockets) sock.destroy()
    },
    restore() {
      open = true
    },
    close: () =>
      new Promise<void>((r) => {
        for (const sock of sockets) sock.destroy()
        server.close(() => r())
      })
  }
}

/** consumers cut off while the log is pruned past their last id: reset, nothing revoked passes */
async function resetScenario(s: Setup): Promise<string> {
  const proxy = await cuttableProxy(s.urls[0]!)
  const lenient = await consumer(proxy.url, s.service, { reconnect: { minMs: 50, maxMs: 200 } })
  const strict = await consumer(proxy.url, s.service, { failClosed: true, reconnect: { minMs: 50, maxMs: 200 } })
  const a = s.replicas[0]!
  try {
    const revoked = await Promise.all(Array.from({ length: 20 }, (_, i) => newToken(s, 10_000 + i)))
    const kept = await Promise.all(Array.from({ length: 5 }, (_, i) => newToken(s, 20_000 + i)))
    for (const c of [lenient, strict])
      for (const tok of [...revoked, ...kept]) if ((await status(c, tok.value)) !== 200) throw new Error('not active')
    // one event while connected, so the consumers have a last id to resume from
    const marker = await newToken(s, 30_000)
    await viaApi(s)(0, marker.id)
    const t1 = Date.now()
    while ([lenient, strict].some((c) => c.tokenVerifier.revocationStream.lastEventId === undefined)) {
      if (Date.now() - t1 > 10_000) throw new Error('no event reached the consumers')
      await sleep(5)
    }
    const before = lenient.tokenVerifier.revocationStream.lastEventId
    const trace = process.env.BENCH_TRACE ? log : () => {}
    for (const c of [lenient, strict])
      c.tokenVerifier.revocationStream.events.on('state', (st: string) => trace(`consumer stream ${st}`))
    proxy.cut()
    await sleep(100)
    for (const tok of revoked) await viaApi(s)(0, tok.id)
    // prune the log past the consumers' last id (what REVOCATION_LOG_RETENTION_HOURS does)
    const latest = a.authority.revocations.cursor
    trace(`cut; last id ${before}, log cursor ${latest}`)
    await a.authority.database.db.deleteFrom('revocation_events').where('seq', '<', latest).execute()
    // during the cut: the lenient consumer trusts its cache for degradedTtlSeconds (5 s), the
    // strict one asks the (unreachable) authority and answers 503
    let passedLenient = 0
    let passedStrict = 0
    for (const tok of revoked) {
      if ((await status(lenient, tok.value)) === 200) passedLenient++
      if ((await status(strict, tok.value)) === 200) passedStrict++
    }
    const resets = [lenient, strict].map(
      (c) => new Promise((r) => c.tokenVerifier.revocationStream.events.once('reset', r))
    )
    trace(`passed during the cut: ${passedLenient} ${passedStrict}`)
    proxy.restore()
    const t0 = performance.now()
    await Promise.race([
      Promise.all(resets),
      sleep(15_000).then(() => Promise.reject(new Error('no reset within 15 s')))
    ])
    const resetMs = performance.now() - t0
    let passedAfter = 0
    for (const c of [lenient, strict])
      for (const tok of revoked) if ((await status(c, tok.value)) !== 401) passedAfter++
    let keptOk = 0
    for (const c of [lenient, strict]) for (const tok of kept) if ((await status(c, tok.value)) === 200) keptOk++
    if (passedStrict !== 0 || passedAfter !== 0 || keptOk !== kept.length * 2) {
      throw new Error(
        `reset scenario failed: strict passes ${passedStrict}, after reset ${passedAfter}, kept ${keptOk}/${kept.length * 2}`
      )
    }
    return (
      `last id ${before} < oldest kept ${latest} - 1 → reset ${resetMs.toFixed(0)} ms after the link came back (reconnect backoff included); ` +
      `after it 0/${revoked.length * 2} revoked tokens pass, ${keptOk}/${kept.length * 2} live ones do; during the cut the ` +
      `fail-closed consumer passed 0/${revoked.length}, the default one ${passedLenient}/${revoked.length} (cached < degradedTtlSeconds 5 s)`
    )
  } finally {
    await lenient.close()
    await strict.close()
    await proxy.close()
  }
}

async function main(): Promise<void> {
  const rows: Row[] = []
  const notes: string[] = []
  const services = serviceUrlsFromEnv()
  const only = process.env.BENCH_BACKEND as BenchBackend['name'] | undefined
  const backends: BenchBackend['name'][] = only ? [only] : services ? ['mysql+redis', 'embedded'] : ['embedded']
  if (!services) log('BENCH_/TEST_DATABASE_URL and _REDIS_URL not set: embedded only')
  for (const name of backends) {
    const backend = await createBenchBackend(name, services)
    const replicas = name === 'embedded' ? 1 : 2
    const s = await setup(backend, replicas)
    try {
      const consumers = await Promise.all([0, 1, 2].map((i) => consumer(s.urls[i % replicas]!, s.service)))
      try {
        log(`${name}: ${N} revocations via the API…`)
        rows.push({
          scenario: `${name}, API`,
          replicas,
          consumers: 3,
          revocations: N,
          samples: await measure(s, consumers, N, viaApi(s)),
          note: 'DELETE /v1/tokens/{id}, round-robin on the replicas'
        })
        log(`${name}: ${N} revocations via the CLI…`)
        rows.push({
          scenario: `${name}, CLI`,
          replicas,
          consumers: 3,
          revocations: N,
          samples: await measure(s, consumers, N, viaCli(s)),
          note: `authority-cli revoke-token; REVOCATION_LOG_POLL_MS ${s.config.REVOCATION_LOG_POLL_MS}`
        })
      } finally {
        for (const c of consumers) await c.close()
      }
      log(`${name}: reset…`)
      notes.push(`reset (${name}): ${await resetScenario(s)}`)
    } finally {
      await s.close()
      await backend.cleanup()
    }
  }
  const head = '| scenario | replicas | consumers | revocations | samples | p50 ms | p99 ms | max ms |'
  const lines = [head, '| --- | --: | --: | --: | --: | --: | --: | --: |']
  for (const r of rows) {
    const sorted = [...r.samples].sort((x, y) => x - y)
    lines.push(
      `| ${r.scenario} | ${r.replicas} | ${r.consumers} | ${r.revocations} | ${sorted.length} | ${pct(sorted, 50).toFixed(1)} | ${pct(sorted, 99).toFixed(1)} | ${sorted[sorted.length - 1]!.toFixed(1)} |`
    )
  }
  process.stdout.write(`${lines.join('\n')}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n`)
}

main().then(
  () => process.exit(0),
  (err) => {
    log(String((err as Error).stack ?? err))
    process.exit(1)
  }
)

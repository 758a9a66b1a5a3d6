import { spawn } from 'node:child_process'
import { once } from 'node:events'
import t from 'tap'
import { BACKEND_NAMES, createBackend } from '../support/backends.js'
import { ADMIN, bearer, createService, introspect, startAuthority } from '../support/authority.js'
import { serveMetrics } from '../../services/authority/src/metrics.js'

const SERVER = new URL('../../services/authority/src/server.ts', import.meta.url).pathname
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

for (const backend of BACKEND_NAMES()) {
  t.test(`metrics and load shedding on ${backend}`, async (t) => {
    const ta = await startAuthority(t, backend)
    const svc = await createService(ta, 'metrics-svc', ['tokens:introspect'])
    await introspect(ta, svc.token, 'garbage')
    await introspect(ta, svc.token, ta.adminToken)
    await introspect(ta, svc.token, ta.adminToken)
    // not on the API port (Node version, per-route outcomes): the usual 404
    const api = await ta.app.inject({ url: '/metrics' })
    t.equal(api.statusCode, 404, '/metrics is not on the API port')
    t.match(api.json(), { statusCode: 404, code: 'not_found', error: 'Not Found', requestId: String })
    // but on the metrics listener (server.ts starts it on METRICS_PORT; port 0 here: any free one)
    const listener = await serveMetrics(ta.app.authority.metrics.registry, { host: '127.0.0.1', port: 0 })
    t.teardown(() => listener.close())
    const res = await fetch(listener.url)
    t.equal(res.status, 200)
    t.match(res.headers.get('content-type'), /text\/plain/)
    const body = await res.text()
    t.equal((await fetch(listener.url.replace('/metrics', '/'))).status, 404, 'nothing else on the metrics port')
    // the stock Node.js names (default metrics, unprefixed), so the usual dashboards find them
    t.match(body, /^process_cpu_user_seconds_total \d/m)
    t.match(body, /^process_resident_memory_bytes \d/m)
    t.match(body, /^nodejs_eventloop_lag_seconds \d/m)
    t.match(body, /^nodejs_heap_size_used_bytes \d/m)
    t.notMatch(body, /ta_process_/, 'no prefix on the default metrics')
    t.match(body, /ta_introspections_total\{result="active",reason=""\} 2/)
    t.match(body, /ta_introspections_total\{result="inactive",reason="unknown"\} 1/)
    t.match(
      body,
      /ta_http_request_duration_seconds_bucket\{le="[^"]+",method="POST",route="\/introspect",status_code="200"\}/
    )
    t.match(body, /ta_token_cache_requests_total\{result="hit"\} [1-9]/, 'cache hits counted')
    t.match(body, /ta_dependency_errors_total\{dependency="database"\} 0/)
    t.notMatch(body, /tka_/, 'no token in any label')
    if (backend === 'mysql+redis')
      t.match(body, /ta_db_pool_connections\{state="open"\} [1-9]/, 'pool saturation exported')

    // A second app that sheds past 150 ms held for 500 ms: keep its event loop stalled (250 ms at a
    // time, for 1.5 s, three times the window): every timer runs late, the sampler sees it, and new
    // requests are shed with 503 while probes still answer. (A separate app, so a loaded CI machine
    // cannot shed the set-up above.) A stall shorter than the window is not shed: see
    // load-shedding.test.ts.
    const shedder = await startAuthority(t, backend, {
      env: { LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '150', LOAD_SHED_SUSTAINED_MS: '500' }
    })
    // set up through the services, not HTTP: only the request under test may meet the shedder
    const actor = { accountId: null, tokenId: null, ip: null }
    const owner = await shedder.app.authority.accounts.create(
      { username: 'shed-svc', password: 'shed-svc-password', kind: 'service', permissions: ['tokens:introspect'] },
      null,
      actor
    )
    const shedToken = (
      await shedder.app.authority.tokens.createToken(
        owner,
        { name: 'shed', scopes: ['tokens:introspect'] },
        null,
        actor
      )
    ).value
    const until = Date.now() + 1500
    while (Date.now() < until) {
      const chunk = Date.now() + 250
      while (Date.now() < chunk) {
        // busy: the event loop is stuck here
      }
      await new Promise((r) => setImmediate(r))
    }
    const shed = await shedder.app.inject({
      method: 'POST',
      url: '/introspect',
      headers: bearer(shedToken),
      payload: { token: 'x' }
    })
    t.equal(shed.statusCode, 503, 'shed under event-loop pressure')
    t.equal(shed.headers['retry-after'], '1')
    t.equal(shed.json().code, 'service_unavailable')
    t.equal((await shedder.app.inject({ url: '/livez' })).statusCode, 200, 'liveness is never shed')
    const ready = await shedder.app.inject({ url: '/readyz' })
    t.equal(ready.statusCode, 503, 'readiness agrees with shedding: not ready while requests are shed')
    t.equal(ready.json().checks.load, 'overloaded')
    t.match(await shedder.app.authority.metrics.registry.metrics(), /ta_load_shed_total [1-9]/)
    void ADMIN
  })
}

t.test('graceful shutdown: readiness 503 first, in-flight requests finish, nothing reset', async (t) => {
  const backend = await createBackend('embedded')
  t.teardown(() => backend.cleanup())
  const child = spawn(process.execPath, ['--import=tsx', SERVER], {
    env: {
      ...process.env,
      ...backend.env,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      BCRYPT_COST: '10',
      SHUTDOWN_DELAY_MS: '1500',
      LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
      METRICS_PORT: '0',
      BOOTSTRAP_ADMIN_USERNAME: 'drain',
      BOOTSTRAP_ADMIN_PASSWORD: 'drain-password-123'
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const exited = once(child, 'exit')
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d))
  child.stderr.on('data', (d: Buffer) => (out += d))
  const started = Date.now()
  while (!/listening on (http:\/\/\S+)/.test(out) && Date.now() - started < 30_000) await sleep(50)
  const url = /listening on (http:\/\/\S+)/.exec(out)![1]!
  t.equal((await fetch(`${url}/readyz`)).status, 200)

  // slow requests in flight (bcrypt at cost 10, a few at a time on the thread pool)
  const login = () =>
    fetch(`${url}/v1/auth/admin/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'drain', password: 'drain-password-123' })
    }).then((r) => r.status)
  const inflight = Array.from({ length: 16 }, login)
  await sleep(20)
  child.kill('SIGTERM')
  await sleep(200)
  const ready = await fetch(`${url}/readyz`)
  t.equal(ready.status, 503, 'readiness fails as soon as shutdown begins')
  t.equal(((await ready.json()) as { checks: Record<string, string> }).checks.shutdown, 'draining')
  const during = await login()
  t.equal(during, 200, 'a new connection during the delay is still served, not reset')
  const statuses = await Promise.all(inflight)
  t.same(statuses, Array(16).fill(200), 'every in-flight request completed')
  const [code] = await exited
  t.equal(code, 0, `clean exit after the drain (pools closed, nothing left open)${code === 0 ? '' : `: ${out}`}`)
  const after = await fetch(`${url}/livez`).then(
    () => 'answered',
    (err: Error & { cause?: { code?: string } }) => err.cause?.code ?? 'error'
  )
  t.equal(after, 'ECONNREFUSED', 'after the exit a connection is refused, not reset')
})

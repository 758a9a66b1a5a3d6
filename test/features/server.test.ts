import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import t from 'tap'
import { BACKEND_NAMES, createBackend } from '../support/backends.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const SERVER = new URL('../../services/authority/src/server.ts', import.meta.url).pathname

interface Started {
  url: string
  stdout: () => string
  stderr: () => string
  exit: Promise<number | null>
  kill: (signal: NodeJS.Signals) => void
}

/** A port nobody listens on right now (the metrics listener treats 0 as "off", so tests pick one). */
async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as { port: number }
  await new Promise((resolve) => probe.close(resolve))
  return port
}

/** Starts the real entry point on a free port; resolves once it prints where it listens. */
function startServer(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, ['--import=tsx', SERVER], {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      BCRYPT_COST: '4',
      LOG_LEVEL: 'warn',
      SHUTDOWN_DELAY_MS: '0',
      LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
      METRICS_PORT: '0',
      ...env
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  let err = ''
  const exit = once(child, 'exit').then(([code]) => code as number | null)
  return new Promise((resolve, reject) => {
    // generous: a start compiles the whole service graph (tsx); a loaded CI machine once took over 30 s
    const timer = setTimeout(() => {
      child.kill('SIGKILL') // its pipes would keep the file running until tap's timeout
      reject(new Error(`server did not start in 90 s: ${out} ${err}`))
    }, 90_000)
    const started: Omit<Started, 'url'> = { stdout: () => out, stderr: () => err, exit, kill: (s) => child.kill(s) }
    child.stdout.on('data', (d: Buffer) => {
      out += d
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve({ ...started, url: m[1]! })
      }
    })
    child.stderr.on('data', (d: Buffer) => (err += d))
    void exit.then((code) => {
      clearTimeout(timer)
      reject(Object.assign(new Error(`exited ${code}`), { code, stdout: out, stderr: err }))
    })
  })
}

// Each case starts its own servers on a backend of its own and mostly waits on them: up to three
// run side by side (buffered subtests), the one that measures load shedding alone at the end.
t.jobs = 3
// slow starts on a loaded machine add up: more than tap's default 300 s for the file
t.setTimeout(600_000)

t.test('a bad configuration stops the process with a clear message and exit 78', async (t) => {
  const err = (await startServer({ PORT: 'eighty' }).catch((e: unknown) => e)) as { code: number; stderr: string }
  t.equal(err.code, 78)
  t.match(err.stderr, /PORT must be integer/)
  t.notMatch(err.stderr, /\n\s+at /, 'no stack trace for a config error')
})

for (const name of BACKEND_NAMES()) {
  t.test(`the server entry point on ${name}`, async (t) => {
    const backend = await createBackend(name)
    t.teardown(() => backend.cleanup())
    if (name === 'mysql+redis') {
      const err = (await startServer(backend.env).catch((e: unknown) => e)) as { code: number; stderr: string }
      t.equal(err.code, 78, 'refuses to start on an unmigrated database')
      t.match(err.stderr, /needs migrating \(0001-initial(, [0-9a-z-]+)*\)/)
      const { openDatabase } = await import('../../services/authority/src/db/database.js')
      const { migrateToLatest } = await import('../../services/authority/src/db/migrations.js')
      const { loadConfig } = await import('../../services/authority/src/config.js')
      const db = openDatabase(loadConfig(backend.env))
      await migrateToLatest(db.db)
      await db.close()
    }
    const noAdmin = await startServer(backend.env)
    t.match(noAdmin.stdout(), /no admin account yet/, 'tells a newcomer how the first admin gets in')
    t.match(noAdmin.stdout(), /npm run create-admin -- --username admin/)
    // built or not (CONSOLE_DIR), the start message says where the console is
    t.match(noAdmin.stdout(), /token console.*http:\/\/127\.0\.0\.1:\d+\/console\//, 'prints the console URL')
    noAdmin.kill('SIGTERM')
    t.equal(await noAdmin.exit, 0, 'SIGTERM: clean exit')

    const server = await startServer({
      ...backend.env,
      BOOTSTRAP_ADMIN_USERNAME: 'boot',
      BOOTSTRAP_ADMIN_PASSWORD: 'bootstrap-password-1'
    })
    t.notMatch(server.stdout(), /no admin account yet/)
    const login = await fetch(`${server.url}/v1/auth/admin/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'boot', password: 'bootstrap-password-1' })
    })
    t.equal(login.status, 200, 'the bootstrap admin can log in')
    t.equal((await fetch(`${server.url}/readyz`)).status, 200)
    server.kill('SIGTERM')
    t.equal(await server.exit, 0)
    t.notOk(
      server.stdout().includes('bootstrap-password-1') || server.stderr().includes('bootstrap-password-1'),
      'the password is not printed'
    )
  })
}

t.test(
  'metrics are served on METRICS_PORT only, under the stock Node.js names; the API port answers 404',
  async (t) => {
    const backend = await createBackend('embedded')
    t.teardown(() => backend.cleanup())
    const port = await freePort()
    const server = await startServer({ ...backend.env, METRICS_PORT: String(port) })
    t.teardown(() => server.kill('SIGKILL'))
    t.match(server.stdout(), `metrics on http://127.0.0.1:${port}/metrics`)
    const api = await fetch(`${server.url}/metrics`)
    t.equal(api.status, 404, 'not on the API port')
    t.match(
      await api.json(),
      { statusCode: 404, code: 'not_found', error: 'Not Found', message: 'no route GET /metrics' },
      'the usual error body'
    )
    const scrape = await fetch(`http://127.0.0.1:${port}/metrics`)
    t.equal(scrape.status, 200)
    t.match(scrape.headers.get('content-type'), /^text\/plain; version=0\.0\.4/)
    const text = await scrape.text()
    t.match(text, /^ta_http_request_duration_seconds_bucket\{/m)
    t.match(text, /^process_cpu_user_seconds_total /m)
    t.match(text, /^nodejs_eventloop_lag_seconds /m)
    t.notMatch(text, /ta_process_/)
    t.equal((await fetch(`http://127.0.0.1:${port}/livez`)).status, 404, 'the metrics port serves nothing else')
    server.kill('SIGTERM')
    t.equal(await server.exit, 0)
    const after = await fetch(`http://127.0.0.1:${port}/metrics`).then(
      () => 'answered',
      (err: Error & { cause?: { code?: string } }) => err.cause?.code ?? 'error'
    )
    t.equal(after, 'ECONNREFUSED', 'the metrics listener is closed with the process')
  }
)

t.test('Ctrl-C (SIGINT) exits at once; SIGTERM keeps serving through SHUTDOWN_DELAY_MS', async (t) => {
  const backend = await createBackend('embedded')
  t.teardown(() => backend.cleanup())

  const terminal = await startServer({ ...backend.env, SHUTDOWN_DELAY_MS: '5000' })
  t.teardown(() => terminal.kill('SIGKILL'))
  let started = performance.now()
  terminal.kill('SIGINT')
  t.equal(await terminal.exit, 0, 'SIGINT: clean exit')
  const sigintMs = Math.round(performance.now() - started)
  t.ok(sigintMs < 2000, `SIGINT with SHUTDOWN_DELAY_MS=5000 exits in ${sigintMs} ms, not after the delay`)

  const pod = await startServer({ ...backend.env, SHUTDOWN_DELAY_MS: '2000' })
  t.teardown(() => pod.kill('SIGKILL'))
  started = performance.now()
  pod.kill('SIGTERM')
  await sleep(300)
  const ready = await fetch(`${pod.url}/readyz`)
  t.equal(ready.status, 503, 'SIGTERM: readiness off at once')
  t.equal((await fetch(`${pod.url}/livez`)).status, 200, 'and still serving during the delay')
  t.equal(await pod.exit, 0)
  const sigtermMs = Math.round(performance.now() - started)
  t.ok(sigtermMs >= 2000, `SIGTERM exits after the delay (${sigtermMs} ms)`)
})

// last and alone (unbuffered: it waits for the cases above to finish): it measures a fresh server's
// event loop, which servers starting beside it would slow
t.test(
  'right after a start, 50 concurrent requests are served, not shed (readiness and shedding agree)',
  { buffered: false },
  async (t) => {
    const backend = await createBackend('embedded')
    t.teardown(() => backend.cleanup())
    // the shipped threshold: start-up (module loading, schema compilation, the first queries) blocks
    // the event loop for long stretches, but a freshly started, idle server is not overloaded
    const server = await startServer({ ...backend.env, LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '1000' })
    t.teardown(() => server.kill('SIGKILL'))
    const paths = ['/v1/me', '/openapi.json', '/v1/tokens/x', '/nowhere', '/readyz']
    const started = performance.now()
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        fetch(`${server.url}${paths[i % paths.length]}`).then(async (r) => ({ status: r.status, body: await r.text() }))
      )
    )
    const elapsed = Math.round(performance.now() - started)
    const shed = responses.filter((r) => r.status === 503)
    t.equal(
      shed.length,
      0,
      `none of the 50 first requests shed (${elapsed} ms for all)${shed.length ? `: ${shed.length} were: ${shed[0]!.body}` : ''}`
    )
    const ready = responses.filter((_, i) => paths[i % paths.length] === '/readyz')
    t.ok(
      ready.every((r) => r.status === 200),
      'readiness says ok meanwhile'
    )
    server.kill('SIGTERM')
    t.equal(await server.exit, 0)
  }
)

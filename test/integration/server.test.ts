import { spawn } from 'node:child_process'
import { once } from 'node:events'
import t from 'tap'
import { BACKEND_NAMES, createBackend } from '../helpers/backends.js'

const SERVER = new URL('../../services/authority/src/server.ts', import.meta.url).pathname

interface Started {
  url: string
  stdout: () => string
  stderr: () => string
  exit: Promise<number | null>
  kill: (signal: NodeJS.Signals) => void
}

/** Starts the real entry point on a free port; resolves once it prints where it listens. */
function startServer(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, ['--import=tsx', SERVER], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', BCRYPT_COST: '4', LOG_LEVEL: 'warn', SHUTDOWN_DELAY_MS: '0', LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  let err = ''
  const exit = once(child, 'exit').then(([code]) => code as number | null)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out} ${err}`)), 30_000)
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
      t.match(err.stderr, /needs migrating \(0001-initial\)/)
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
    noAdmin.kill('SIGTERM')
    t.equal(await noAdmin.exit, 0, 'SIGTERM: clean exit')

    const server = await startServer({ ...backend.env, BOOTSTRAP_ADMIN_USERNAME: 'boot', BOOTSTRAP_ADMIN_PASSWORD: 'bootstrap-password-1' })
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
    t.notOk(server.stdout().includes('bootstrap-password-1') || server.stderr().includes('bootstrap-password-1'), 'the password is not printed')
  })
}

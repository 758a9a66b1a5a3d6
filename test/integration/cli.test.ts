import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'
import { BACKEND_NAMES, createBackend } from '../helpers/backends.js'
import { ADMIN, bearer, introspect, createService, startAuthority } from '../helpers/authority.js'

const run = promisify(execFile)
const CLI = new URL('../../scripts/authority-cli.ts', import.meta.url).pathname

async function cli(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import=tsx', CLI, ...args], {
      env: { ...process.env, BCRYPT_COST: '4', LOG_LEVEL: 'warn', ...env },
      timeout: 60_000
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

for (const name of BACKEND_NAMES()) {
  t.test(`operator CLI on ${name}`, async (t) => {
    const backend = await createBackend(name)
    t.teardown(() => backend.cleanup())
    const env = backend.env

    const usage = await cli(env)
    t.equal(usage.code, 2, 'no command: usage, exit 2')
    t.match(usage.stderr, /usage: authority-cli/)
    t.equal((await cli(env, 'migrate', 'sideways')).code, 2)
    t.equal((await cli({ ...env, PORT: 'nope' }, 'migrate', 'status')).code, 2, 'bad config: exit 2')

    const up = await cli(env, 'migrate', 'up', '--json')
    t.equal(up.code, 0, up.stderr)
    t.same(JSON.parse(up.stdout), { ok: true, applied: ['0001-initial'] })
    const status = await cli(env, 'migrate', 'status')
    t.match(status.stdout, /applied\s+0001-initial/)

    const ta = await startAuthority(t, name, { backend })
    const admin = await cli(env, 'create-admin', '--username', 'Operator', '--json')
    t.equal(admin.code, 0, admin.stderr)
    const created = JSON.parse(admin.stdout)
    t.equal(created.username, 'operator')
    t.match(created.password, /^[A-Za-z0-9_-]{24}$/, 'a one-time password is printed once')
    t.equal((await cli(env, 'create-admin', '--username', 'operator')).code, 1, 'a taken name fails with 1')
    t.equal((await cli(env, 'create-admin')).code, 2)

    // Tokens made through the API are revoked by the CLI, and the cache hears of it.
    const svc = await createService(ta, 'cli-svc', ['tokens:introspect'])
    const mk = async () => {
      const res = await ta.app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: bearer(ta.adminToken),
        payload: { name: 'cli', scopes: ['tokens:read'], password: ADMIN.password }
      })
      return { id: res.json().token.id as string, value: res.json().access_token as string }
    }
    const one = await mk()
    t.equal((await introspect(ta, svc.token, one.value)).active, true)
    const revoked = await cli(env, 'revoke-token', one.id, '--json')
    t.equal(revoked.code, 0, revoked.stderr)
    t.same(JSON.parse(revoked.stdout).revoked, [one.id])
    if (name === 'mysql+redis') t.same(await introspect(ta, svc.token, one.value), { active: false }, 'shared cache invalidated')
    t.equal((await cli(env, 'revoke-token', 'AAAAAAAAAAAAAAAAAAAAAA')).code, 1, 'unknown id: exit 1')

    const two = await mk()
    const all = await cli(env, 'revoke-account', ADMIN.username, '--json')
    t.equal(all.code, 0, all.stderr)
    t.ok(JSON.parse(all.stdout).revoked.includes(two.id))
    t.equal((await cli(env, 'revoke-account', 'nobody')).code, 1)

    const granted = await cli({ ...env, EXTRA_SCOPES: 'reports:read' }, 'grant', 'operator', 'reports:read', '--json')
    t.equal(granted.code, 0, granted.stderr)
    t.ok(JSON.parse(granted.stdout).permissions.includes('reports:read'), 'a new scope reaches an admin through the operator')
    t.equal((await cli(env, 'grant', 'operator')).code, 2)

    const pruned = await cli({ ...env, PRUNE_RETENTION_DAYS: '0' }, 'prune', '--json')
    t.equal(pruned.code, 0, pruned.stderr)
    t.ok(JSON.parse(pruned.stdout).pruned >= 2, 'revoked rows past retention are pruned')
    const gone = await ta.app.authority.database.db.selectFrom('tokens').select('id').where('id', 'in', [one.id, two.id]).execute()
    t.equal(gone.length, 0)
  })
}

import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { ADMIN, bearer, createService, introspect, startAuthority, type TestAuthority } from '../support/authority.js'
import { createBackend, serviceBackendsAvailable } from '../support/backends.js'
import { freePort, PrivateRedis } from '../support/private-redis.js'

/**
 * Redis as operators of managed Redis run it: TLS for the authority (a private CA) and the ACL user
 * docs/deployment.md recommends: keys and channels limited to REDIS_KEY_PREFIX, no @dangerous
 * command (KEYS, FLUSHALL, CONFIG, DEBUG, …); the default user is off.
 * The authority caches, invalidates and follows revocations through it; with a CA that did not
 * sign the server's certificate it never talks to Redis at all and answers from the database.
 */
t.setTimeout(120_000)

const PASSWORD = 'acl-password-for-tests-1'

/** A CA, a server certificate for localhost / 127.0.0.1 signed by it, and a CA that signed nothing. */
function certificates(dir: string) {
  const at = (name: string) => join(dir, name)
  // openssl req asks for a subject unless given one: a config of our own makes the CAs' silent
  writeFileSync(
    at('openssl.cnf'),
    '[req]\ndistinguished_name = dn\nprompt = no\nx509_extensions = v3_ca\n[dn]\nCN = ta test CA\n[v3_ca]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n'
  )
  const env = { ...process.env, OPENSSL_CONF: at('openssl.cnf') }
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe', env })
  for (const ca of ['ca', 'other-ca'])
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at(`${ca}.key`), '-out', at(`${ca}.pem`))
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    at('server.key'),
    '-out',
    at('server.csr'),
    '-subj',
    '/CN=localhost'
  )
  writeFileSync(at('san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n')
  openssl(
    'x509',
    '-req',
    '-in',
    at('server.csr'),
    '-CA',
    at('ca.pem'),
    '-CAkey',
    at('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    at('san.ext'),
    '-out',
    at('server.pem')
  )
  return { ca: at('ca.pem'), otherCa: at('other-ca.pem'), cert: at('server.pem'), key: at('server.key') }
}

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

if (!serviceBackendsAvailable()) {
  t.plan(0, 'Redis TLS + ACL: with MySQL + Redis only (TEST_DATABASE_URL / TEST_REDIS_URL not set)')
} else if (!hasOpenssl()) {
  t.fail('openssl is required to make the test certificates')
} else {
  t.test('Redis over TLS with an ACL user limited to the key prefix', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ta-redis-tls-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const certs = certificates(dir)

    const backend = await createBackend('mysql+redis')
    t.teardown(() => backend.cleanup())
    const prefix = backend.env.REDIS_KEY_PREFIX!
    const tlsPort = await freePort()
    // the plain port stays for the test's own look inside; the default user is off on both
    const redis = await PrivateRedis.start(undefined, [
      '--tls-port',
      String(tlsPort),
      '--tls-cert-file',
      certs.cert,
      '--tls-key-file',
      certs.key,
      '--tls-ca-cert-file',
      certs.ca,
      '--tls-auth-clients',
      'no',
      // each word its own argument: redis-server joins them into the config line
      '--user',
      'default',
      'off',
      '--user',
      'authority',
      'on',
      `>${PASSWORD}`,
      'resetkeys',
      `~${prefix}*`,
      'resetchannels',
      `&${prefix}*`,
      '+@all',
      '-@dangerous',
      // ioredis's ready check (INFO) on every connect; INFO is in @dangerous
      '+info',
      // the test's own look inside, with every right
      '--user',
      'inspector',
      'on',
      `>${PASSWORD}`,
      '~*',
      '&*',
      '+@all'
    ])
    const look = new Redis({ port: redis.port, host: '127.0.0.1', username: 'inspector', password: PASSWORD })
    t.teardown(() => look.quit())
    // tap runs teardowns last-added first, so the server stops first. Stopped last, it answered a
    // TLS client still retrying after its subtest (the authority given the wrong CA) with an alert
    // that surfaced as an uncaught exception; stopped first, every client just sees it closed.
    t.teardown(() => redis.stop())

    const start = (t: Parameters<typeof startAuthority>[0], ca: string) =>
      startAuthority(t, 'mysql+redis', {
        backend,
        env: { REDIS_URL: `rediss://authority:${PASSWORD}@localhost:${tlsPort}`, REDIS_TLS_CA_FILE: ca }
      })
    /** a token to look at, and a way to revoke it through the admin API */
    const subject = async (t: Test, ta: TestAuthority, name: string) => {
      const svc = await createService(ta, `${name}-checker`, ['tokens:introspect'])
      const held = await createService(ta, name, ['tokens:read'])
      const revoke = async () => {
        const res = await ta.app.inject({
          method: 'DELETE',
          url: `/v1/accounts/${held.id}/tokens`,
          headers: bearer(ta.adminToken),
          payload: { password: ADMIN.password }
        })
        t.equal(res.statusCode, 200, res.body)
        return (res.json() as { revoked: string[] }).revoked
      }
      return { svc, value: held.token, revoke }
    }

    t.test('the CA that signed the certificate: cached in Redis, revoked at once', async (t) => {
      await look.call('ACL', 'LOG', 'RESET')
      const ta = await start(t, certs.ca)
      const { stats } = ta.app.authority.cache
      const s = await subject(t, ta, 'tls-ok')
      t.equal((await introspect(ta, s.svc.token, s.value)).active, true, 'active')
      const hits = stats.hits
      t.equal((await introspect(ta, s.svc.token, s.value)).active, true, 'active again')
      t.ok(stats.hits > hits, 'served from the Redis cache')
      const keys = await look.keys('*')
      t.ok(keys.length > 0, `the authority wrote ${keys.length} keys through TLS as the ACL user`)
      const [revokedId] = await s.revoke()
      t.equal((await introspect(ta, s.svc.token, s.value)).active, false, 'inactive right after the revoke')
      // the invalidation channel is under the prefix too: a subscriber elsewhere hears this revoke
      const heard = new Redis({ port: redis.port, host: '127.0.0.1', username: 'inspector', password: PASSWORD })
      t.teardown(() => heard.quit())
      await heard.subscribe(`${prefix}invalidate`)
      const other = await subject(t, ta, 'tls-ok-2')
      t.equal((await introspect(ta, other.svc.token, other.value)).active, true)
      const ids: string[] = []
      let otherIds: string[] = []
      const messages = new Promise<void>((resolve) =>
        heard.on('message', (_channel, m: string) => {
          ids.push(...((JSON.parse(m) as { ids?: string[] }).ids ?? []))
          if (otherIds.some((id) => ids.includes(id))) resolve()
        })
      )
      otherIds = await other.revoke()
      // usually heard before the revoke's reply came back; otherwise wait for it
      if (!otherIds.some((id) => ids.includes(id)))
        await Promise.race([messages, new Promise((r) => setTimeout(r, 5_000))])
      t.ok(
        otherIds.length === 1 && ids.includes(otherIds[0]!),
        'the second revoke was published on the prefixed channel, with its token id'
      )
      t.not(revokedId, undefined)
      t.equal(stats.errors, 0, 'no Redis command failed')
      t.same(await look.call('ACL', 'LOG'), [], 'the ACL refused nothing the authority asked for')
    })

    t.test('a CA that did not sign it: Redis is never used, the database answers', async (t) => {
      await look.flushall()
      const ta = await start(t, certs.otherCa)
      const { stats } = ta.app.authority.cache
      const s = await subject(t, ta, 'tls-wrong-ca')
      t.equal((await introspect(ta, s.svc.token, s.value)).active, true, 'active, from the database')
      t.equal((await introspect(ta, s.svc.token, s.value)).active, true, 'and again')
      await s.revoke()
      t.equal((await introspect(ta, s.svc.token, s.value)).active, false, 'revoked: inactive')
      t.equal(stats.hits, 0, 'no answer came from Redis')
      t.ok(stats.errors > 0, `every cache call failed (${stats.errors}): the connection was refused`)
      t.same(await look.keys('*'), [], 'nothing was written over an unverified connection')
    })
  })
}

import { randomUUID } from 'node:crypto'
import bcrypt from 'bcrypt'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { loadConfig } from '../../services/authority/src/config.js'
import { openDatabase } from '../../services/authority/src/db/database.js'
import { createMigrator } from '../../services/authority/src/db/migrations.js'
import { BACKEND_NAMES, createBackend } from '../support/backends.js'
import { ADMIN, bearer, createAccount, errorCode, startAuthority, type TestAuthority } from '../support/authority.js'

/**
 * Issue §3, "one username, one spelling": a name is canonicalised (NFKC, lower case) and must
 * then match the username pattern exactly. No other spelling — trailing or inner spaces,
 * no-break spaces, zero-width or bidi characters — reaches an account or buys a budget of its own.
 */

const PW = 'victim-password-17'

/** bcrypt.compare calls in this process, and those against one chosen hash */
let compares = 0
let watchedHash: string | undefined
let watchedCompares = 0
const originalCompare = bcrypt.compare.bind(bcrypt) as (data: string, hash: string) => Promise<boolean>
;(bcrypt as unknown as { compare: typeof originalCompare }).compare = (data: string, hash: string) => {
  compares++
  if (hash === watchedHash) watchedCompares++
  return originalCompare(data, hash)
}

function attempt(
  app: FastifyInstance,
  username: string,
  password: string,
  ip: string,
  realm: 'admin' | 'customer' = 'customer'
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: `/v1/auth/${realm}/token`,
    remoteAddress: ip,
    payload: { username, password }
  })
}

function withoutRequestId(res: LightMyRequestResponse): Record<string, unknown> {
  const body = res.json() as Record<string, unknown>
  delete body.requestId
  return body
}

async function hashOf(ta: TestAuthority, username: string): Promise<string> {
  const row = await ta.app.authority.database.db
    .selectFrom('accounts')
    .select('password_hash')
    .where('username', '=', username)
    .executeTakeFirstOrThrow()
  return row.password_hash
}

/** spellings of `victim` that are NOT the account: each must be a 401 like an unknown user */
const OTHER_SPELLINGS: [string, string][] = [
  ['victim ', 'a trailing space'],
  ['victim   ', 'three trailing spaces'],
  [' victim', 'a leading space'],
  ['vic tim', 'an inner space'],
  ['victim\u00a0', 'a trailing no-break space'],
  ['VICTIM\u00a0', 'upper case and a trailing no-break space'],
  ['victim\u3000', 'a trailing ideographic space'],
  ['victim\t', 'a trailing tab'],
  ['victim\n', 'a trailing newline'],
  ['vic\u200btim', 'a zero-width space'],
  ['victim\u200d', 'a zero-width joiner'],
  ['\u202evictim', 'a right-to-left override'],
  ['victim\u2066', 'a bidi isolate'],
  ['victim\u00ad', 'a soft hyphen'],
  ['\ufeffvictim', 'a byte-order mark'],
  ['victim\u0000', 'a NUL'],
  ['ｖｉｃｔｉｍ\u3000', 'fullwidth letters and a fullwidth space']
]

/** spellings that ARE the account: case and fullwidth forms canonicalise to `victim` */
const SAME_SPELLINGS: [string, string][] = [
  ['victim', 'as created'],
  ['Victim', 'capitalised'],
  ['VICTIM', 'upper case'],
  ['ｖｉｃｔｉｍ', 'fullwidth'],
  ['ＶＩＣＴＩＭ', 'fullwidth upper case']
]

for (const backend of BACKEND_NAMES()) {
  t.test(`usernames on ${backend}`, async (t) => {
    t.test(
      'case and fullwidth forms log in; any other spelling is a 401 like an unknown user, after a bcrypt check',
      async (t) => {
        const ta = await startAuthority(t, backend)
        await createAccount(ta, { username: 'victim', password: PW, kind: 'customer' })
        let n = 0
        const ip = () => `198.51.100.${++n}`
        for (const [name, what] of SAME_SPELLINGS) {
          const res = await attempt(ta.app, name, PW, ip())
          t.equal(res.statusCode, 200, `${what} (${JSON.stringify(name)}): 200`)
        }
        const unknown = await attempt(ta.app, 'nobody-at-all', PW, ip())
        t.equal(unknown.statusCode, 401, 'an unknown user: 401')
        for (const [name, what] of OTHER_SPELLINGS) {
          const before = compares
          const res = await attempt(ta.app, name, PW, ip())
          t.equal(res.statusCode, 401, `${what} (${JSON.stringify(name)}), right password: 401 (${res.statusCode})`)
          t.equal(errorCode(res), 'invalid_credentials', `${what}: invalid_credentials`)
          t.same(withoutRequestId(res), withoutRequestId(unknown), `${what}: the same body as an unknown user`)
          t.equal(
            res.headers['www-authenticate'],
            unknown.headers['www-authenticate'],
            `${what}: the same WWW-Authenticate`
          )
          t.equal(compares - before, 1, `${what}: one bcrypt comparison, as for an unknown user`)
        }
        // the admin realm too
        t.equal(
          (await attempt(ta.app, ADMIN.username.toUpperCase(), ADMIN.password, ip(), 'admin')).statusCode,
          200,
          'admin name, upper case: 200'
        )
        t.equal(
          (await attempt(ta.app, `${ADMIN.username} `, ADMIN.password, ip(), 'admin')).statusCode,
          401,
          'admin name with a trailing space: 401'
        )
      }
    )

    t.test('the database compares names exactly (no PAD SPACE)', async (t) => {
      const ta = await startAuthority(t, backend)
      await createAccount(ta, { username: 'victim', password: PW, kind: 'customer' })
      const db = ta.app.authority.database.db
      for (const name of ['victim ', 'victim  ', 'victim\t', 'Victim']) {
        const rows = await db.selectFrom('accounts').select('id').where('username', '=', name).execute()
        t.equal(rows.length, 0, `WHERE username = ${JSON.stringify(name)} finds nothing`)
      }
      t.equal(
        (await db.selectFrom('accounts').select('id').where('username', '=', 'victim').execute()).length,
        1,
        "WHERE username = 'victim' finds the account"
      )
    })

    t.test('every spelling of a name spends the one account budget', async (t) => {
      const BUDGET = 5
      const ta = await startAuthority(t, backend, {
        env: { LOGIN_ACCOUNT_FAILURES_PER_HOUR: String(BUDGET), LOGIN_IP_FAILURES: '1000' }
      })
      await createAccount(ta, { username: 'victim', password: PW, kind: 'customer' })
      watchedHash = await hashOf(ta, 'victim')
      t.teardown(() => {
        watchedHash = undefined
      })
      // BUDGET wrong guesses through as many spellings, each from an address of its own
      const spellings = ['victim ', 'victim\u00a0', 'VICTIM  ', 'vic\u200btim', 'ｖｉｃｔｉｍ']
      for (const [i, name] of spellings.entries()) {
        const res = await attempt(ta.app, name, `guess-${i}-password`, `10.1.0.${i + 1}`)
        t.equal(res.statusCode, 401, `${JSON.stringify(name)}: 401`)
      }
      const res = await attempt(ta.app, 'victim', PW, '10.1.1.1')
      t.equal(
        res.statusCode,
        429,
        `then the right password from a new address: 429, the budget is spent (${res.statusCode})`
      )
      t.ok(
        Number(res.headers['retry-after']) > 60,
        `  refused for the account (Retry-After ${String(res.headers['retry-after'])} s)`
      )
      for (const [i, name] of ['victim   ', 'Victim\u00a0', 'vic\u2060tim', 'ＶＩＣＴＩＭ'].entries()) {
        const more = await attempt(ta.app, name, `more-${i}-password`, `10.1.2.${i + 1}`)
        t.equal(more.statusCode, 429, `another spelling ${JSON.stringify(name)} has no budget of its own: 429`)
      }
    })

    t.test('guesses per account-hour, whatever the spelling (default budget 100)', async (t) => {
      const ta = await startAuthority(t, backend)
      t.equal(ta.config.LOGIN_ACCOUNT_FAILURES_PER_HOUR, 100)
      await createAccount(ta, { username: 'victim', password: PW, kind: 'customer' })
      watchedHash = await hashOf(ta, 'victim')
      t.teardown(() => {
        watchedHash = undefined
      })
      // 12 spellings x 110 guesses, every guess from an address of its own (no address budget reached)
      const spellings = [
        ...Array.from({ length: 8 }, (_, k) => `victim${' '.repeat(k)}`),
        'victim\u00a0',
        'VICTIM',
        'ｖｉｃｔｉｍ',
        'vic\u200btim'
      ]
      const before = watchedCompares
      const statuses = new Map<number, number>()
      let n = 0
      for (const name of spellings) {
        for (let k = 0; k < 110; k++) {
          n++
          const res = await attempt(
            ta.app,
            name,
            `guess-${n}-password`,
            `10.${2 + Math.floor(n / 60000)}.${Math.floor(n / 250) % 240}.${(n % 250) + 1}`
          )
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
        }
      }
      const checked = watchedCompares - before
      t.comment(
        `${backend}: ${n} guesses through ${spellings.length} spellings: ${checked} checked against the account's hash; answers ${JSON.stringify(Object.fromEntries(statuses))}`
      )
      t.ok(checked <= 100, `at most 100 guesses checked against the account in the hour: ${checked}`)
      t.equal(statuses.get(200) ?? 0, 0, 'no success')
    })

    t.test('creation refuses every name outside the pattern', async (t) => {
      const ta = await startAuthority(t, backend)
      const create = (username: string) =>
        ta.app.inject({
          method: 'POST',
          url: '/v1/accounts',
          headers: bearer(ta.adminToken),
          payload: { username, password: PW, kind: 'customer', current_password: ADMIN.password }
        })
      for (const name of [
        'newbie ',
        ' newbie',
        'new bie',
        'newbie\u00a0',
        'new\u200bbie',
        '\u202enewbie',
        'ｎｅｗｂｉｅ',
        'newbie\t',
        'nëwbie',
        'x'.repeat(129),
        '.newbie',
        ''
      ]) {
        const res = await create(name)
        t.equal(
          res.statusCode,
          400,
          `${JSON.stringify(name.length > 20 ? `${name.slice(0, 8)}…(${name.length})` : name)}: 400 (${res.statusCode})`
        )
      }
      const ok = await create('NewBie.2@example-1_x')
      t.equal(ok.statusCode, 201, 'letters in either case, digits and . _ @ -: 201')
      t.equal(ok.json().username, 'newbie.2@example-1_x', 'stored in lower case')
      const again = await create('NEWBIE.2@EXAMPLE-1_X')
      t.equal(again.statusCode, 409, 'the same name in another case: 409')
      t.equal(errorCode(again), 'username_taken')

      // the operator's path (CLI create-admin, BOOTSTRAP_ADMIN_*) goes through the service: the same rule
      const operator = { accountId: null, tokenId: null, ip: null }
      for (const name of ['root-admin ', 'root\u00a0admin', 'ｒｏｏｔ', 'ro\u200bot', 'émile']) {
        await t.rejects(
          ta.app.authority.accounts.create({ username: name, password: PW, kind: 'admin' }, null, operator),
          { code: 'validation_failed' },
          `service create ${JSON.stringify(name)}: validation_failed`
        )
      }
      const rows = await ta.app.authority.database.db.selectFrom('accounts').select('username').execute()
      t.same(
        rows.map((r) => r.username).sort(),
        [ADMIN.username, 'newbie.2@example-1_x'].sort(),
        'nothing else was stored'
      )
    })

    t.test(
      'migration 0002: existing names are canonicalised where unique; names outside the pattern keep logging in',
      async (t) => {
        const b = await createBackend(backend)
        t.teardown(() => b.cleanup())
        const config = loadConfig({ BCRYPT_COST: '4', ...b.env })
        const database = openDatabase(config)
        const migrated = await createMigrator(database.db).migrateTo('0001-initial')
        t.equal(migrated.error, undefined, 'schema at 0001')
        const hash = (pw: string) => bcrypt.hash(pw, 4)
        const now = Date.now()
        const row = async (username: string, password: string, at: number) => ({
          id: randomUUID(),
          username,
          kind: 'customer' as const,
          password_hash: await hash(password),
          permissions: '[]',
          disabled: 0,
          created_at: now + at,
          updated_at: now + at
        })
        // rows as an older release (or a hand-made insert) may have left them
        await database.db
          .insertInto('accounts')
          .values([
            await row('Mixed.Case', 'mixed-password-1', 0),
            await row('ｆｕｌｌ', 'full-password-1', 1),
            await row('dup', 'dup-lower-password', 2),
            await row('Dup', 'dup-upper-password', 3),
            await row('legacy user', 'legacy-password-1', 4),
            await row('josé', 'jose-password-1', 5)
          ])
          .execute()
        await database.close()

        const ta = await startAuthority(t, backend, { backend: b })
        const names = (await ta.app.authority.database.db.selectFrom('accounts').select('username').execute())
          .map((r) => r.username)
          .sort()
        t.same(
          names,
          ['Dup', 'dup', 'full', 'josé', 'legacy user', 'mixed.case', ADMIN.username].sort(),
          'canonicalised where the canonical name was free'
        )
        let n = 0
        const ok = async (name: string, pw: string, what: string) =>
          t.equal((await attempt(ta.app, name, pw, `10.9.0.${++n}`)).statusCode, 200, what)
        const no = async (name: string, pw: string, what: string) =>
          t.equal((await attempt(ta.app, name, pw, `10.9.0.${++n}`)).statusCode, 401, what)
        await ok('mixed.case', 'mixed-password-1', 'a mixed-case row logs in by its canonical name')
        await ok('MIXED.CASE', 'mixed-password-1', '  and in any case')
        await ok('full', 'full-password-1', 'a fullwidth row logs in as plain ASCII')
        await ok('ＦＵＬＬ', 'full-password-1', '  and fullwidth')
        await ok(
          'DUP',
          'dup-lower-password',
          'a canonical name held by two rows belongs to the row that already had it'
        )
        await no('Dup', 'dup-upper-password', '  the other row no longer logs in by name (an operator renames it)')
        await ok('legacy user', 'legacy-password-1', 'a name outside the pattern, unique: logs in as it is')
        await ok('LEGACY USER', 'legacy-password-1', '  in any case')
        await no('legacy user ', 'legacy-password-1', '  but not with a trailing space')
        await no('legacy  user', 'legacy-password-1', '  nor two spaces')
        // NFKC makes a no-break space a space: the same canonical name, the same account and budget
        await ok('legacy\u00a0user', 'legacy-password-1', '  a no-break space is the same canonical name (NFKC)')
        await ok('JOSÉ', 'jose-password-1', 'a non-ASCII legacy name logs in, in any case')
      }
    )
  })
}

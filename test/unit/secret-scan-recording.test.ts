// The secret scan's recorder (test/support/secret-scan-recording.ts) must see every request a test
// authority serves, including those refused by an encapsulated onRequest hook before any handler.
// It once did not: its hooks were added after the routes were registered (awaited), and Fastify
// does not hand a hook added later to routes already registered, so Authorization credentials and
// request ids went unrecorded and a fuzzed password that was also a logged request id read as a leak.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'

// this process records into a folder of its own (set before test/support reads it)
const dir = mkdtempSync(join(tmpdir(), 'ta-recording-'))
process.env.SECRET_SCAN_DIR = dir
const { bearer, startAuthority } = await import('../support/authority.js')
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

t.test('requests refused before their handler are recorded: credential, request id, password', async (t) => {
  await t.test('an authority that serves three refused requests', async (t) => {
    const ta = await startAuthority(t, 'embedded')
    const refused = await ta.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { authorization: 'Bearer not-a-token-credential-1', 'x-request-id': 'rid-recorded-1' }
    })
    t.equal(refused.statusCode, 401, 'refused by the authenticated scope')
    const wrong = await ta.app.inject({
      method: 'POST',
      url: '/v1/me/password',
      headers: bearer(ta.adminToken),
      payload: { current_password: 'wrong-password-typed-1', new_password: 'a-new-password-typed-1' }
    })
    t.equal(wrong.statusCode, 403, wrong.body)
  })
  const files = readdirSync(dir).filter((n) => n.endsWith('.secrets.json'))
  t.equal(files.length, 1, 'the authority wrote what it saw')
  const seen = JSON.parse(readFileSync(join(dir, files[0]!), 'utf8')) as Record<string, string[]>
  t.ok(seen.credentials!.includes('not-a-token-credential-1'), 'the Authorization credential')
  t.ok(seen.public!.includes('rid-recorded-1'), 'the request id (the log echoes it)')
  t.ok(seen.passwords!.includes('wrong-password-typed-1'), 'the confirmation password')
  t.ok(seen.passwords!.includes('a-new-password-typed-1'), 'the new password')
})

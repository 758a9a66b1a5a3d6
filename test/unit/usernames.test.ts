import t from 'tap'
import {
  canonicalUsername,
  isValidUsername,
  throttleName,
  USERNAME_MAX_LENGTH,
  usernameForCreation
} from '../../services/authority/src/accounts/username.js'

/**
 * The pure username rules of services/authority/src/accounts/username.ts (docs/security-model.md,
 * "Usernames"); test/features/usernames.test.ts drives the same rules through the API.
 */

t.test('canonical form: NFKC, then lower case; fullwidth and mixed case are one name', async (t) => {
  t.equal(canonicalUsername('Admin'), 'admin')
  t.equal(canonicalUsername('ＡＤＭＩＮ'), 'admin', 'fullwidth')
  t.equal(canonicalUsername('ﬁnance'), 'finance', 'a compatibility ligature')
  t.equal(
    canonicalUsername(canonicalUsername('ＡＤＭＩＮ')),
    canonicalUsername('ＡＤＭＩＮ'),
    'stable: canonical twice is canonical once'
  )
})

t.test('a valid canonical name: ASCII letters and digits, then . _ @ -, 1 to 128 characters', async (t) => {
  for (const ok of ['a', '0', 'alice', 'a.b_c@d-e', 'x'.repeat(USERNAME_MAX_LENGTH)])
    t.ok(isValidUsername(ok), ok.slice(0, 20))
  for (const bad of [
    '',
    'Alice',
    '.alice',
    '-alice',
    'al ice',
    'x'.repeat(USERNAME_MAX_LENGTH + 1),
    'аlice' /* Cyrillic а */,
    'ali\u200bce'
  ]) {
    t.notOk(isValidUsername(bad), JSON.stringify(bad.slice(0, 20)))
  }
})

t.test('creation stores the canonical form of a name typed in the alphabet, either case', async (t) => {
  t.equal(usernameForCreation('Alice'), 'alice')
  t.equal(usernameForCreation('Build.Bot_1@ci-x'), 'build.bot_1@ci-x')
  t.equal(usernameForCreation('x'.repeat(USERNAME_MAX_LENGTH)), 'x'.repeat(USERNAME_MAX_LENGTH))
})

t.test('creation refuses what is outside the typed alphabet (null), lookalikes and invisibles included', async (t) => {
  for (const typed of [
    '',
    ' alice',
    'alice ',
    '.alice',
    'ＡＤＭＩＮ',
    'аlice',
    'ali\u200bce',
    'ali\u00a0ce',
    'a\r\nb',
    'x'.repeat(USERNAME_MAX_LENGTH + 1)
  ]) {
    t.equal(usernameForCreation(typed), null, JSON.stringify(typed.slice(0, 20)))
  }
})

t.test('the throttle counts every spelling that could pass for a name against that name', async (t) => {
  for (const spelling of [
    'victim',
    'Victim ',
    'vic\u200btim',
    'ｖｉｃｔｉｍ\u00a0',
    '\u2060VICTIM\ufeff',
    ' v i c t i m '
  ]) {
    t.equal(throttleName(spelling), 'victim', JSON.stringify(spelling))
  }
  t.equal(throttleName('alice'), 'alice', 'a valid name is its own throttle name')
  t.not(throttleName('victim2'), 'victim', 'a different name is a different budget')
})

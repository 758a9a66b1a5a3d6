import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { ADMIN, bearer, login } from '../support/authority.js'
import { BACKEND_NAMES } from '../support/backends.js'
import {
  browserSkip,
  confirmPassword,
  createTokenViaApi,
  CUSTOMER,
  installed,
  shown,
  signIn,
  signInAdmin,
  startConsole
} from '../support/console.js'

/**
 * Sessions and boundaries of the console in a real browser: session expiry, sign out, the admin
 * screens (hidden from customers, a password reset by an admin) and CSRF from other origins.
 */
t.setTimeout(900_000)

type Rig = Awaited<ReturnType<typeof startConsole>>

/** A customer account (tokens:read + tokens:write), created by the rig's admin through the API. */
async function createCustomer(rig: Rig, who: { username: string; password: string }): Promise<string> {
  const res = await rig.ta.app.inject({
    method: 'POST',
    url: '/v1/accounts',
    headers: bearer(rig.ta.adminToken),
    payload: {
      ...who,
      kind: 'customer',
      permissions: ['tokens:read', 'tokens:write'],
      current_password: ADMIN.password
    }
  })
  if (res.statusCode !== 201) throw new Error(`account ${who.username}: ${res.statusCode} ${res.body}`)
  return (res.json() as { id: string }).id
}

/** PATs (tokens:read) made with `credential` and confirmed with `password`: name → value. */
async function patsOf(
  rig: Rig,
  credential: string,
  password: string,
  names: string[]
): Promise<Record<string, string>> {
  const made: Record<string, string> = {}
  for (const name of names) {
    const res = await rig.ta.app.inject({
      method: 'POST',
      url: '/v1/tokens',
      headers: bearer(credential),
      payload: { name, scopes: ['tokens:read'], password }
    })
    if (res.statusCode !== 201) throw new Error(`token ${name}: ${res.statusCode} ${res.body}`)
    made[name] = (res.json() as { access_token: string }).access_token
  }
  return made
}

for (const backend of BACKEND_NAMES()) {
  t.test(`console sessions (${backend})`, { skip: browserSkip }, async (t) => {
    if (!installed) return t.fail('chromium is required in CI (apt-get install -y chromium)')
    const start = Date.now()
    const rig = await startConsole(t, backend, {
      frozen: start,
      chromiumArgs: ['--host-resolver-rules=MAP attacker.test 127.0.0.1']
    })
    const { origin } = rig
    const clock = rig.ta.clock as { advance(ms: number): void; set(ms: number): void }

    t.test('the session cookie is HttpOnly and SameSite=Strict; sign out makes its token inactive', async (t) => {
      const { page, context } = await rig.newPage()
      await signIn(page, origin)
      const cookies = await context.cookies(origin)
      const cookie = cookies.find((c) => c.name === 'ta_session')!
      t.ok(cookie, 'the session cookie is set')
      for (const c of cookies) {
        t.ok(c.httpOnly, `${c.name}: HttpOnly`)
        t.equal(c.sameSite, 'Strict', `${c.name}: SameSite=Strict`)
      }
      t.equal(await page.evaluate('document.cookie'), '', 'page script cannot read it')
      t.ok(await rig.active(cookie.value), 'the session token is active while signed in')
      await page.getByRole('button', { name: 'Sign out' }).click()
      await page.getByText('You are signed out.').waitFor()
      t.notOk(await rig.active(cookie.value), 'the session token is inactive after sign out')
      await page.reload()
      // the page asks the authority whether a session exists before it draws either screen: wait
      // for whichever comes (isVisible() right after the reload raced that question and lost)
      const screen = page.getByRole('button', { name: /^Sign (in|out)$/ }).first()
      await screen.waitFor()
      t.equal(await screen.textContent(), 'Sign in', 'a reload stays signed out')
    })

    t.test('an expired session says so and returns to sign-in', async (t) => {
      clock.set(Date.now())
      const { page } = await rig.newPage()
      await signIn(page, origin)
      // the first list load must have finished: the clock may not move under a request in flight
      // (its 401 would end the session before the click, and the Refresh button would be gone)
      await page.locator('button:enabled', { hasText: 'Refresh' }).waitFor()
      clock.advance(9 * 3600 * 1000) // past the idle timeout and the session lifetime
      await page.getByRole('button', { name: 'Refresh' }).click()
      await page.getByRole('button', { name: 'Sign in' }).waitFor()
      t.match(
        await page.locator('.notice').textContent(),
        /session has expired|no longer valid/,
        'the sign-in screen says the session ended'
      )
      clock.set(Date.now())
      await signIn(page, origin)
      t.ok(await shown(page.getByRole('heading', { name: 'Your tokens' })), 'signing in again works')
    })

    t.test('a customer sees no admin screens', async (t) => {
      clock.set(Date.now())
      const { page } = await rig.newPage()
      await signIn(page, origin)
      t.equal(await page.getByRole('link', { name: 'Accounts' }).count(), 0, 'no Accounts link')
      await page.goto(`${origin}/console/accounts`)
      await page.getByRole('heading', { name: 'Not available' }).waitFor()
      t.equal(await page.locator('table.accounts').count(), 0, 'no account list')
      const status = await page.evaluate(
        `fetch('/v1/accounts', { headers: { 'X-Requested-By': 'token-console' } }).then((r) => r.status)`
      )
      t.equal(status, 403, 'and the API refuses it anyway')
    })

    t.test('an admin resets a customer’s password', async (t) => {
      clock.set(Date.now())
      const created = await rig.ta.app.inject({
        method: 'POST',
        url: '/v1/accounts',
        headers: bearer(rig.ta.adminToken),
        payload: { username: 'bob', password: 'bob-old-password', kind: 'customer', current_password: ADMIN.password }
      })
      t.equal(created.statusCode, 201)
      const { page } = await rig.newPage()
      await signInAdmin(page, origin)
      await page.getByRole('link', { name: 'Accounts' }).click()
      await page.getByLabel('Search by username').fill('bob')
      await page.getByRole('link', { name: 'bob', exact: true }).click()
      await page.getByLabel('New password').fill('bob-new-password-1')
      await page.getByRole('button', { name: 'Reset password…' }).click()
      await confirmPassword(page, ADMIN.password, 'Reset password')
      await page.getByText('Password reset.').waitFor()
      const res = await rig.ta.app.inject({
        method: 'POST',
        url: '/v1/auth/customer/token',
        payload: { username: 'bob', password: 'bob-new-password-1' }
      })
      t.equal(res.statusCode, 200, 'the new password signs in')
      const old = await rig.ta.app.inject({
        method: 'POST',
        url: '/v1/auth/customer/token',
        payload: { username: 'bob', password: 'bob-old-password' }
      })
      t.equal(old.statusCode, 401, 'the old one does not')
    })

    t.test(
      'an admin creates an account, finds it by kind, revokes one of its tokens, disables and enables it',
      async (t) => {
        clock.set(Date.now())
        const { page, problems } = await rig.newPage()
        await signInAdmin(page, origin)
        await page.getByRole('link', { name: 'Accounts' }).click()
        await page.getByRole('button', { name: 'Create account' }).click()
        const form = page.getByRole('dialog', { name: 'Create account' })
        await form.getByLabel('Username').fill('carol')
        await form.getByLabel('Initial password').fill('carol-password-1')
        await form.getByLabel('Kind').selectOption('customer')
        await form.getByRole('button', { name: 'Create…' }).click()
        await confirmPassword(page, ADMIN.password, 'Create account')
        await page.getByText('Account “carol” created.').waitFor()
        const carolSession = await login(rig.ta.app, 'customer', 'carol', 'carol-password-1')
        t.ok(carolSession, 'the new account signs in')

        // the kind filter asks the API again; the search narrows what is loaded
        await page.getByLabel('Search by username').fill('carol')
        await page.getByRole('link', { name: 'carol', exact: true }).waitFor()
        await page.getByLabel('Kind', { exact: true }).selectOption('service')
        await page.getByText('No account matches.').waitFor()
        await page.getByLabel('Kind', { exact: true }).selectOption('customer')
        await page.getByRole('link', { name: 'carol', exact: true }).waitFor()

        const made = await patsOf(rig, carolSession, 'carol-password-1', ['carol-ci', 'carol-laptop'])
        await page.getByRole('link', { name: 'carol', exact: true }).click()
        await page.getByRole('heading', { name: 'carol' }).waitFor()
        await page.getByRole('button', { name: 'Revoke carol-ci' }).click()
        await confirmPassword(page, ADMIN.password, 'Revoke')
        await page.getByText('Token revoked.').waitFor()
        t.notOk(await rig.active(made['carol-ci']!), 'the revoked token is inactive')
        t.ok(await rig.active(made['carol-laptop']!), 'the other one still works')
        // the list reloads after the message: the row loses its button
        await page.getByRole('button', { name: 'Revoke carol-ci' }).waitFor({ state: 'detached' })
        t.pass('no Revoke on a revoked row')

        await page.getByRole('button', { name: 'Disable account' }).click()
        await confirmPassword(page, ADMIN.password, 'Disable')
        await page.getByText('Account disabled.').waitFor()
        t.notOk(await rig.active(made['carol-laptop']!), 'disabling ends every token')
        const refused = await rig.ta.app.inject({
          method: 'POST',
          url: '/v1/auth/customer/token',
          payload: { username: 'carol', password: 'carol-password-1' }
        })
        t.not(refused.statusCode, 200, 'a disabled account cannot sign in')

        await page.getByRole('button', { name: 'Enable account' }).click()
        await confirmPassword(page, ADMIN.password, 'Enable')
        await page.getByText('Account enabled.').waitFor()
        t.ok(await login(rig.ta.app, 'customer', 'carol', 'carol-password-1'), 'enabled: signs in again')
        t.notOk(await rig.active(made['carol-laptop']!), 'its old tokens stay revoked')
        t.same(problems, [], 'no CSP violation or page error')
      }
    )

    t.test("an admin revokes all of an account's tokens at once", async (t) => {
      clock.set(Date.now())
      const dave = { username: 'dave', password: 'dave-password-1' }
      await createCustomer(rig, dave)
      const session = await login(rig.ta.app, 'customer', dave.username, dave.password)
      const values = [session, ...Object.values(await patsOf(rig, session, dave.password, ['dave-ci', 'dave-laptop']))]
      const { page, problems } = await rig.newPage()
      await signInAdmin(page, origin)
      await page.getByRole('link', { name: 'Accounts' }).click()
      await page.getByLabel('Search by username').fill('dave')
      await page.getByRole('link', { name: 'dave', exact: true }).click()
      await page.getByRole('heading', { name: 'dave' }).waitFor()
      const revokeAll = page.getByRole('button', { name: /^Revoke all/ })
      await page.getByRole('button', { name: 'Revoke all (3)' }).waitFor()
      await revokeAll.click()
      const dialog = page.getByRole('dialog', { name: 'Revoke all tokens' })
      t.match(await dialog.textContent(), /Every live token of dave \(3 tokens\) stops working at once/)
      await confirmPassword(page, ADMIN.password, 'Revoke all')
      await page.getByText('Revoked 3 tokens.').waitFor()
      for (const [i, value] of values.entries()) t.notOk(await rig.active(value), `token ${i + 1} of 3 is inactive`)
      t.ok(await rig.active(rig.ta.adminToken), "another account's token still works")
      await page.getByRole('button', { name: 'Revoke all (0)' }).waitFor()
      t.ok(await revokeAll.isDisabled(), 'nothing left to revoke: the button is disabled')
      t.same(problems, [], 'no CSP violation or page error')
    })

    t.test("an admin revokes an account's tokens issued before a time; later ones keep working", async (t) => {
      // the server's frozen clock makes two generations of tokens: two hours ago and one hour ago
      const minute = 60_000
      const early = Math.floor((Date.now() - 2 * 3600_000) / minute) * minute + 10_000
      clock.set(early)
      const erin = { username: 'erin', password: 'erin-password-1' }
      const erinId = await createCustomer(rig, erin)
      const session = await login(rig.ta.app, 'customer', erin.username, erin.password)
      const old = await patsOf(rig, session, erin.password, ['erin-old-1', 'erin-old-2'])
      clock.set(early + 60 * minute)
      // a sign-in session lasts an hour: the second generation comes from a new one
      const laterSession = await login(rig.ta.app, 'customer', erin.username, erin.password)
      const recent = await patsOf(rig, laterSession, erin.password, ['erin-recent'])
      clock.set(Date.now())
      // the browser runs in Kathmandu (UTC+5:45, no daylight saving): a form that read its time as
      // UTC, or wrote the default in UTC, would be 5 h 45 min off
      const local = (ms: number) => new Date(ms + 345 * minute).toISOString().slice(0, 16)
      const cut = early - 10_000 + 30 * minute

      const { page, problems } = await rig.newPage({ timezoneId: 'Asia/Kathmandu' })
      await signInAdmin(page, origin)
      await page.getByRole('link', { name: 'Accounts' }).click()
      await page.getByLabel('Search by username').fill('erin')
      await page.getByRole('link', { name: 'erin', exact: true }).click()
      await page.getByRole('heading', { name: 'erin' }).waitFor()
      t.ok(await page.getByLabel('Now (the moment you confirm)').isChecked(), 'now is the default')
      const shownAt = local(Date.now())
      await page.getByLabel('A time').check()
      const field = page.getByLabel('Issued before (your local time)')
      const filled = await field.inputValue()
      t.ok(filled >= shownAt && filled <= local(Date.now()), `a time starts at now, local, to the minute (${filled})`)
      // a time to come is refused in the page (the field's max: the browser says so), and nothing changes
      await field.fill(local(Date.now() + 3600_000))
      await page.getByRole('button', { name: 'Revoke tokens issued before…' }).click()
      t.equal(await page.locator('input[type="datetime-local"]:invalid').count(), 1, 'the field is invalid')
      t.equal(await page.getByRole('dialog').count(), 0, 'no dialog for a time to come')
      t.ok(await rig.active(old['erin-old-1']!), 'nothing revoked yet')

      await field.fill(local(cut))
      await page.getByRole('button', { name: 'Revoke tokens issued before…' }).click()
      const dialog = page.getByRole('dialog', { name: 'Revoke tokens issued before' })
      const utc = new Date(cut).toISOString().slice(0, 19).replace('T', ' ')
      t.match(await dialog.textContent(), `Every one of erin’s tokens issued before`, 'the dialog says whose tokens')
      t.match(await dialog.textContent(), `(${utc} UTC)`, 'and the exact moment, in UTC')
      await confirmPassword(page, ADMIN.password, 'Revoke')
      // the two old PATs (the sign-in session from then has expired: not live, not counted)
      await page.getByText(`Revoked 2 tokens; every token issued before`).waitFor()
      t.notOk(await rig.active(old['erin-old-1']!), 'a token from before the time is inactive')
      t.notOk(await rig.active(old['erin-old-2']!), 'so is the other one')
      t.ok(await rig.active(recent['erin-recent']!), 'a token issued after the time still works')
      t.ok(await rig.active(rig.ta.adminToken), "another account's token still works")
      await page.getByText('Tokens revoked before').waitFor()
      const account = await rig.ta.app.inject({ url: `/v1/accounts/${erinId}`, headers: bearer(rig.ta.adminToken) })
      t.equal(account.json().tokens_revoked_before, new Date(cut).toISOString(), 'the watermark is the time chosen')
      t.same(problems, [], 'no CSP violation or page error')
    })

    t.test('a customer revokes everything of theirs issued before now and is signed out, told why', async (t) => {
      clock.set(Date.now())
      const fay = { username: 'fay', password: 'fay-password-1' }
      const fayId = await createCustomer(rig, fay)
      const apiSession = await login(rig.ta.app, 'customer', fay.username, fay.password)
      const old = await patsOf(rig, apiSession, fay.password, ['fay-old'])
      const { page, problems } = await rig.newPage()
      await signIn(page, origin, fay)
      // "now" is the authority's moment of acting: after every token above (its clock is frozen)
      clock.advance(1000)
      await page.getByText('Revoke everything issued before a time').click()
      t.ok(await page.getByLabel('Now (the moment you confirm)').isChecked(), 'now is the default')
      await page.getByRole('button', { name: 'Revoke tokens issued before…' }).click()
      const dialog = page.getByRole('dialog', { name: 'Revoke tokens issued before' })
      t.match(await dialog.textContent(), /Every one of your tokens issued before now \(the moment you confirm\)/)
      t.match(await dialog.textContent(), /you are signed out/, 'the dialog says this session ends too')
      await confirmPassword(page, fay.password, 'Revoke')
      // the PAT, the API session and this console session
      await page
        .getByText(
          /Revoked 3 tokens; every token issued before .+ This session was issued before that, so you are signed out\./
        )
        .waitFor()
      await page.getByRole('button', { name: 'Sign in' }).waitFor()
      t.notOk(await rig.active(old['fay-old']!), 'the PAT is inactive')
      t.notOk(await rig.active(apiSession), 'so is the API session')
      const account = await rig.ta.app.inject({ url: `/v1/accounts/${fayId}`, headers: bearer(rig.ta.adminToken) })
      const watermark = account.json().tokens_revoked_before
      t.equal(
        watermark,
        new Date((rig.ta.clock as { now(): number }).now()).toISOString(),
        "now, by the authority's clock"
      )
      t.same(problems, [], 'no CSP violation or page error')
    })

    t.test('change my password: other sessions end, this one stays; "also revoke" ends the PATs', async (t) => {
      clock.set(Date.now())
      const carla = { username: 'carla', password: 'carla-old-password-1' }
      await createCustomer(rig, carla)
      const elsewhere = await rig.ta.app.inject({ method: 'POST', url: '/v1/auth/customer/token', payload: carla })
      const other = (elsewhere.json() as { access_token: string }).access_token
      const patValue = (await patsOf(rig, other, carla.password, ['ci'])).ci!
      const { page } = await rig.newPage()
      await signIn(page, origin, carla)
      await page.getByRole('link', { name: 'Password' }).click()
      await page.getByLabel('Current password').fill(carla.password)
      await page.getByLabel('New password', { exact: true }).fill('carla-new-password-1')
      await page.getByLabel('New password again').fill('carla-new-password-1')
      await page.getByRole('button', { name: 'Change password' }).click()
      await page.getByText('Password changed. Your other sessions have been signed out.').waitFor()
      t.equal(await rig.active(other), false, 'the other session ended')
      t.equal(await rig.active(patValue), true, 'the PAT still works (not asked to revoke it)')
      await page.getByRole('link', { name: 'Tokens' }).click()
      t.ok(await shown(page.getByRole('button', { name: 'Sign out' })), 'this session stays signed in')
      // again, now also revoking the personal access tokens
      await page.getByRole('link', { name: 'Password' }).click()
      await page.getByLabel('Current password').fill('carla-new-password-1')
      await page.getByLabel('New password', { exact: true }).fill('carla-third-password-1')
      await page.getByLabel('New password again').fill('carla-third-password-1')
      await page.getByLabel('Also revoke all my personal access tokens').check()
      await page.getByRole('button', { name: 'Change password' }).click()
      await page.getByText('Password changed. Your other sessions and all your tokens have been revoked.').waitFor()
      t.equal(await rig.active(patValue), false, 'the PAT is revoked')
      const signsIn = await rig.ta.app.inject({
        method: 'POST',
        url: '/v1/auth/customer/token',
        payload: { username: 'carla', password: 'carla-third-password-1' }
      })
      t.equal(signsIn.statusCode, 200, 'the new password signs in')
    })

    t.test('CSRF: a cross-site form post and fetch from other origins change nothing', async (t) => {
      clock.set(Date.now())
      const target = await createTokenViaApi(rig, { name: 'csrf-target' })
      const before = await tokenCount(rig)
      const attacker = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        res.end(attackPage(origin, target.id))
      })
      await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', r))
      t.teardown(() => new Promise<void>((r) => attacker.close(() => r())))
      const port = (attacker.address() as AddressInfo).port

      const { page, context } = await rig.newPage()
      await signIn(page, origin)
      const seen: { url: string; status: number }[] = []
      // same site, other origin (another port), then another site altogether
      for (const attackOrigin of [`http://127.0.0.1:${port}`, `http://attacker.test:${port}`]) {
        const evil = await context.newPage()
        // what the authority answered the attacker's page (its frames and fetches), not the victim's own page
        evil.on('response', (r) => {
          if (r.url().startsWith(`${origin}/v1/`)) seen.push({ url: r.url(), status: r.status() })
        })
        await evil.goto(`${attackOrigin}/`)
        await evil.waitForFunction('window.done === true', undefined, { timeout: 20_000 })
        const fetched = (await evil.evaluate('window.results')) as string[]
        t.ok(
          fetched.every((r) => r === 'blocked' || r === 'opaque'),
          `${attackOrigin}: the attacker's fetches got nothing readable (${fetched.join(', ')})`
        )
        await evil.close()
      }
      t.ok(seen.length > 0, 'the forged requests reached the authority')
      t.same(
        seen.filter((s) => s.status < 400),
        [],
        'every forged request was refused'
      )
      t.ok(await rig.active(target.value), 'the targeted token is still active')
      t.equal(await tokenCount(rig), before, 'no token was created')
      await page.getByRole('button', { name: 'Refresh' }).click()
      t.ok(await shown(page.getByRole('button', { name: 'Sign out' })), 'the victim is still signed in')
    })

    t.test('an admin previews and revokes the tokens matching criteria', async (t) => {
      clock.set(Date.now())
      const sel = { username: 'selma', password: 'selma-password-1' }
      await createCustomer(rig, sel)
      const session = await login(rig.ta.app, 'customer', sel.username, sel.password)
      const made = await patsOf(rig, session, sel.password, ['ci-old-1', 'ci-old-2', 'laptop'])

      const { page, problems } = await rig.newPage()
      await signInAdmin(page, origin)
      await page.getByRole('link', { name: 'Accounts' }).click()
      await page.getByText('Revoke tokens matching criteria').click()
      const preview = page.getByRole('button', { name: 'Preview' })
      t.ok(await preview.isDisabled(), 'no criteria: nothing to preview (the API refuses an empty selector)')
      await page.getByLabel('Token kind').selectOption('pat')
      await page.getByLabel('Name starts with').fill('ci-old-')
      // a half-typed date is refused, not dropped from the criteria (which would widen the match)
      await page.getByLabel('Created before').click()
      await page.keyboard.type('12')
      t.ok(
        await page
          .getByLabel('Created before')
          .evaluate((el) => (el as unknown as { validity: { badInput: boolean } }).validity.badInput),
        'the browser holds it as unfinished'
      )
      const asked: string[] = []
      page.on('request', (r) => {
        if (r.url().endsWith('/v1/admin/tokens/revoke-matching')) asked.push(r.postData() ?? '')
      })
      await preview.click()
      await page.evaluate('new Promise((r) => setTimeout(r, 300))')
      t.same(asked, [], 'nothing is asked with the date silently left out')
      t.equal(await page.getByRole('button', { name: /^Revoke / }).count(), 0, 'no preview, nothing to revoke')
      await page.getByLabel('Created before').fill('')
      await preview.click()
      await page.getByText('2 tokens match.').waitFor()
      t.ok(await rig.active(made['ci-old-1']!), 'a preview changes nothing')

      // another criterion: the preview no longer applies, so there is nothing to confirm
      await page.getByLabel('Name starts with').fill('ci-old-1')
      await page.getByRole('button', { name: /^Revoke 2 tokens/ }).waitFor({ state: 'detached' })
      t.pass('changing the criteria withdraws the preview')
      await page.getByLabel('Name starts with').fill('ci-old-')
      await preview.click()
      await page.getByText('2 tokens match.').waitFor()
      await page.getByRole('button', { name: 'Revoke 2 tokens…' }).click()
      t.match(
        await page.getByRole('dialog', { name: 'Revoke matching tokens' }).textContent(),
        /2 tokens matching kind pat, name starting with “ci-old-” stop working at once/,
        'the dialog repeats the criteria it will send'
      )
      await confirmPassword(page, ADMIN.password, 'Revoke')
      await page.getByText('Revoked 2 tokens.').waitFor()
      t.notOk(await rig.active(made['ci-old-1']!), 'ci-old-1 is inactive')
      t.notOk(await rig.active(made['ci-old-2']!), 'ci-old-2 is inactive')
      t.ok(await rig.active(made.laptop!), 'the token that did not match still works')
      t.ok(await rig.active(session), "the account's session (not a PAT) still works")
      await preview.click()
      await page.getByText('0 tokens match.').waitFor()
      t.ok(await shown(page.getByRole('button', { name: 'Sign out' })), 'the admin is still signed in')
      t.same(problems, [], 'no CSP violation or page error')
    })

    // last in this rig: it spends the page's address's budget of failed sign-ins (LOGIN_IP_FAILURES)
    t.test('throttled sign-in says when to try again, and lets nobody in meanwhile', async (t) => {
      const { page, problems } = await rig.newPage()
      await page.goto(`${origin}/console/`)
      await page.getByLabel('Customer').check()
      await page.getByLabel('Username').fill(CUSTOMER.username)
      const alert = page.getByRole('alert')
      const attempt = async (password: string) => {
        await page.getByLabel('Password').fill(password)
        const answered = page.waitForResponse(
          (r) => r.url().endsWith('/v1/auth/session') && r.request().method() === 'POST'
        )
        await page.getByRole('button', { name: 'Sign in' }).click()
        return (await answered).status()
      }
      let tries = 0
      let status = 0
      while (tries < 60 && status !== 429) {
        status = await attempt('not-the-password')
        tries++
      }
      t.equal(status, 429, `throttled after ${tries} wrong passwords`)
      t.match(await alert.textContent(), /^Too many attempts\. Try again in \d+ s\.$/, 'a sentence with the wait')
      t.equal(await attempt(CUSTOMER.password), 429, 'the right password is refused too while throttled')
      t.match(await alert.textContent(), /^Too many attempts/)
      t.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0, 'not signed in')
      t.same(
        problems.filter((p) => !/status of 4(01|29)/.test(p)),
        [],
        'no CSP violation or page error'
      )
    })
  })
}

async function tokenCount(rig: Awaited<ReturnType<typeof startConsole>>): Promise<number> {
  const res = await rig.ta.app.inject({
    url: `/v1/accounts/${rig.customerId}/tokens?limit=200`,
    headers: bearer(rig.ta.adminToken)
  })
  // personal access tokens only: the victim's sign-in adds a login token of its own
  return (res.json().items as { kind: string }[]).filter((x) => x.kind !== 'lgn').length
}

/**
 * The attacker's page: form posts (url-encoded and text/plain carrying JSON) into a hidden frame,
 * and fetches with the victim's cookies (no-cors, and cors with the console's header, which needs a
 * preflight the authority does not grant).
 */
function attackPage(origin: string, id: string): string {
  const revoke = JSON.stringify({ ids: [id], password: CUSTOMER.password, x: '' })
  const create = JSON.stringify({ name: 'csrf', scopes: ['tokens:read'], password: CUSTOMER.password })
  return `<!doctype html><html><body>
<iframe name="sink1"></iframe><iframe name="sink2"></iframe><iframe name="sink3"></iframe>
<form id="f1" method="post" action="${origin}/v1/tokens/revoke" enctype="text/plain" target="sink1">
  <input name='${revoke.slice(0, -2)}' value='"}'>
</form>
<form id="f2" method="post" action="${origin}/v1/tokens" target="sink2">
  <input name="name" value="csrf"><input name="scopes" value="tokens:read"><input name="password" value="${CUSTOMER.password}">
</form>
<form id="f3" method="post" action="${origin}/v1/tokens/${id}/regenerate" enctype="text/plain" target="sink3">
  <input name='{"password":"${CUSTOMER.password}","x":"' value='"}'>
</form>
<script>
window.results = []
const done = () => { window.done = true }
async function attack() {
  document.getElementById('f1').submit()
  document.getElementById('f2').submit()
  document.getElementById('f3').submit()
  const attempts = [
    () => fetch('${origin}/v1/tokens/revoke', { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: ${JSON.stringify(revoke)} }),
    () => fetch('${origin}/v1/tokens', { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json', 'X-Requested-By': 'token-console' }, body: ${JSON.stringify(create)} }),
    () => fetch('${origin}/v1/tokens', { credentials: 'include', headers: { 'X-Requested-By': 'token-console' } }),
    () => fetch('${origin}/v1/auth/session', { method: 'DELETE', credentials: 'include', headers: { 'X-Requested-By': 'token-console' } })
  ]
  for (const a of attempts) {
    try { const r = await a(); window.results.push(r.type === 'opaque' ? 'opaque' : 'read ' + r.status) }
    catch { window.results.push('blocked') }
  }
  setTimeout(done, 1500)
}
attack()
</script></body></html>`
}

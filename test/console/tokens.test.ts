import { readFile } from 'node:fs/promises'
import t from 'tap'
import { bearer, login } from '../support/authority.js'
import { BACKEND_NAMES } from '../support/backends.js'
import {
  browserSkip,
  closeValue,
  confirmPassword,
  createTokenViaApi,
  CUSTOMER,
  installed,
  readValue,
  shown,
  signIn,
  startConsole,
  tabTo
} from '../support/console.js'

/**
 * The token flows of the console in a real browser (chromium + playwright-core) against a real
 * authority on a loopback port: generate (preset, custom), the one-time value dialog, edit,
 * regenerate, copy, remove several, wrong password, keyboard-only generate, XSS through names.
 */
t.setTimeout(900_000)

for (const backend of BACKEND_NAMES()) {
  t.test(`console token flows (${backend})`, { skip: browserSkip }, async (t) => {
    if (!installed) return t.fail('chromium is required in CI (apt-get install -y chromium)')
    // a stopped value presented again is reuse at once (the default grace is a minute)
    const rig = await startConsole(t, backend, { env: { ROTATION_REUSE_GRACE_SECONDS: '0' } })
    const { origin } = rig

    t.test('sign in shows the tokens screen and the account', async (t) => {
      const { page, problems } = await rig.newPage()
      await page.goto(`${origin}/`)
      t.equal(new URL(page.url()).pathname, '/console/', 'GET / leads to /console/')
      await signIn(page, origin)
      t.ok(await shown(page.getByRole('heading', { name: 'Your tokens' })), 'tokens screen')
      t.ok(await shown(page.locator('.who').getByText(CUSTOMER.username)), 'the username is shown')
      // sign-in sessions are login tokens: counted apart, folded away, never rows of the PAT table
      const sessions = page.locator('details.sessions')
      t.match(
        await sessions.locator('summary').textContent(),
        /^Sign-in sessions \([1-9]\d*\)$/,
        'this sign-in, counted apart'
      )
      t.notOk(await sessions.evaluate((d) => (d as unknown as { open: boolean }).open), 'folded away')
      t.ok(await shown(page.getByRole('heading', { name: 'Your tokens' })))
      t.equal(
        await page
          .getByRole('row')
          .filter({ hasText: /started|login/i })
          .count(),
        0,
        'no sign-in session is a row of the tokens table'
      )
      t.same(problems, [], 'no CSP violation or page error')
    })

    t.test(
      'generate with a preset: the value dialog copies, downloads, is gone after close, introspects active',
      async (t) => {
        const { page, context, problems } = await rig.newPage({ acceptDownloads: true })
        await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin })
        // records Blob URLs made and revoked (the page's CSP keeps a test from fetching blob: itself)
        await page.addInitScript(`
        window.__blobs = { created: [], revoked: [] }
        const create = URL.createObjectURL, revoke = URL.revokeObjectURL
        URL.createObjectURL = (o) => { const u = create(o); window.__blobs.created.push(u); return u }
        URL.revokeObjectURL = (u) => { window.__blobs.revoked.push(u); revoke(u) }
      `)
        const logged: string[] = []
        page.on('console', (m) => logged.push(m.text()))
        await signIn(page, origin)
        await page.getByRole('link', { name: 'Generate new token' }).click()
        await page.getByLabel('Name').fill('deploys')
        await page.getByLabel('Description (optional)').fill('from CI')
        await page.getByLabel('A preset').check()
        await page.getByRole('radio', { name: /^read-only/ }).check()
        await page.getByRole('button', { name: 'Generate token' }).click()
        await confirmPassword(page, CUSTOMER.password, 'Generate')
        const value = await readValue(page)
        t.match(value, /^tka_pat_/, 'the value is shown')
        t.match(
          await page.getByRole('dialog').textContent(),
          /will not be shown again/,
          'the dialog says it is shown once'
        )
        t.ok(await rig.active(value), 'the value introspects active')

        await page.getByRole('button', { name: 'Copy to clipboard' }).click()
        await page.getByText('Copied to the clipboard.').waitFor()
        t.equal(await page.evaluate('navigator.clipboard.readText()'), value, 'Copy puts the value on the clipboard')
        const [download] = await Promise.all([
          page.waitForEvent('download'),
          page.getByRole('button', { name: 'Download as .txt' }).click()
        ])
        t.equal(download.suggestedFilename(), 'deploys.txt', 'a .txt named after the token')
        t.equal((await readFile((await download.path())!, 'utf8')).trim(), value, 'the file holds the value')
        t.match(download.url(), /^blob:/, 'downloaded from a Blob URL')
        const blobs = (await page.evaluate('window.__blobs')) as { created: string[]; revoked: string[] }
        t.same(blobs.created, [download.url()], 'one Blob URL made, for the download')
        t.same(blobs.revoked, blobs.created, 'and revoked right after')

        // closed deliberately only: Escape (or a stray key) does not lose a value shown once
        await page.keyboard.press('Escape')
        // what Escape would do happens in its event's handlers; give a re-render time to show it
        await page.waitForTimeout(200)
        t.ok(await page.getByRole('dialog').isVisible(), 'Escape leaves the value dialog open')
        t.equal(await readValue(page), value, 'with the value still shown')
        await closeValue(page)
        t.notOk((await page.content()).includes(value), 'the value is gone from the page after close')
        const stored = (await page.evaluate(
          'JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage), location.href, document.cookie, history.length])'
        )) as string
        t.notOk(stored.includes(value), 'never in storage, the URL or a readable cookie')
        t.notOk(
          logged.some((l) => l.includes(value)),
          'never logged to the console'
        )
        await page.getByRole('cell', { name: 'preset: read-only' }).waitFor()
        t.ok(await shown(page.locator('.token-name').getByText('deploys', { exact: true })), 'listed with its preset')
        t.same(problems, [], 'no CSP violation or page error')
      }
    )

    t.test('generate with custom scopes, searched and filtered', async (t) => {
      const { page } = await rig.newPage()
      await signIn(page, origin)
      await page.getByRole('link', { name: 'Generate new token' }).click()
      await page.getByLabel('Name').fill('writer')
      await page.getByLabel('Custom scopes').check()
      const boxes = page.getByRole('checkbox', { name: /tokens:/ })
      t.equal(await boxes.count(), 2, 'only the scopes the customer holds are offered')
      await page.getByLabel('Search scopes').fill('create')
      t.equal(await boxes.count(), 1, 'search narrows the checklist by description')
      await page.getByRole('checkbox', { name: /tokens:write/ }).check()
      await page.getByLabel('Search scopes').fill('')
      await page.getByLabel('Only checked').check()
      t.equal(await boxes.count(), 1, '"only checked" shows the checked scope alone')
      // the server's policy (default maximum 365 days) decides what the expiry offers
      const expires = page.getByLabel('Expires')
      t.same(
        await expires.locator('option').evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value)),
        ['7', '30', '90', '365', 'custom'],
        'presets within the maximum, the maximum itself, a date; no "never" under a maximum'
      )
      await expires.selectOption('custom')
      const last = new Date(Date.now() + 364 * 86_400_000)
      const pad = (n: number) => String(n).padStart(2, '0')
      t.equal(
        await page.getByLabel('Expiry date').getAttribute('max'),
        `${last.getFullYear()}-${pad(last.getMonth() + 1)}-${pad(last.getDate())}`,
        'the date picker stops at the last day within the maximum'
      )
      await expires.selectOption('7')
      await page.getByRole('button', { name: 'Generate token' }).click()
      await confirmPassword(page, CUSTOMER.password, 'Generate')
      const value = await readValue(page)
      await closeValue(page)
      const row = page.getByRole('row', { name: /writer/ })
      t.match(await row.textContent(), /tokens:write/, 'the custom scope is summarised')
      t.match(await row.locator('.badge').textContent(), /expires in 7 days/, 'expiring within a week stands out')
      const me = await rig.ta.app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${value}` } })
      t.same(me.json().scopes, ['tokens:write'], 'the token holds exactly the checked scope')
    })

    t.test('a wrong password is refused with a sentence and changes nothing', async (t) => {
      const { page } = await rig.newPage()
      await signIn(page, origin)
      await page.getByRole('link', { name: 'Generate new token' }).click()
      await page.getByLabel('Name').fill('never-made')
      await page.getByRole('button', { name: 'Generate token' }).click()
      await confirmPassword(page, 'not-the-password', 'Generate')
      const alert = page.getByRole('dialog').getByRole('alert')
      t.equal(await alert.textContent(), 'That password is not right. Try again.', 'a human sentence')
      t.ok(await shown(page.getByRole('dialog')), 'the dialog stays open to try again')
      await page.getByRole('button', { name: 'Cancel' }).first().click()
      const list = await rig.ta.app.inject({
        url: `/v1/accounts/${rig.customerId}/tokens`,
        headers: { authorization: `Bearer ${rig.ta.adminToken}` }
      })
      t.notOk(
        (list.json().items as { name: string }[]).some((x) => x.name === 'never-made'),
        'no token was created'
      )
    })

    t.test('edit: name, description, narrower scopes, earlier expiry', async (t) => {
      const made = await createTokenViaApi(rig, { name: 'to-edit', scopes: ['tokens:read', 'tokens:write'] })
      const { page } = await rig.newPage()
      await signIn(page, origin)
      await page.getByRole('link', { name: 'Edit to-edit' }).click()
      await page.getByLabel('Name').fill('edited')
      await page.getByLabel('Description (optional)').fill('narrower now')
      await page.getByRole('checkbox', { name: /tokens:write/ }).uncheck()
      const inTen = new Date(Date.now() + 10 * 86_400_000)
      const ymd = `${inTen.getFullYear()}-${String(inTen.getMonth() + 1).padStart(2, '0')}-${String(inTen.getDate()).padStart(2, '0')}`
      await page.getByLabel('Earlier expiry (optional)').fill(ymd)
      await page.getByRole('button', { name: 'Save changes' }).click()
      await confirmPassword(page, CUSTOMER.password, 'Save')
      await page.getByRole('heading', { name: 'Your tokens' }).waitFor()
      await page.locator('.token-name').getByText('edited', { exact: true }).waitFor()
      const me = await rig.ta.app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${made.value}` } })
      t.same(me.json().scopes, ['tokens:read'], 'scopes narrowed')
      const after = await rig.ta.app.inject({
        url: `/v1/accounts/${rig.customerId}/tokens`,
        headers: { authorization: `Bearer ${rig.ta.adminToken}` }
      })
      const tok = (after.json().items as { id: string; name: string; description: string; expires_at: string }[]).find(
        (x) => x.id === made.id
      )!
      t.equal(tok.name, 'edited')
      t.equal(tok.description, 'narrower now')
      t.ok(new Date(tok.expires_at).getTime() < Date.now() + 11 * 86_400_000, 'expiry moved earlier')
    })

    t.test('regenerate from the edit view: a new value, the old one inactive', async (t) => {
      const made = await createTokenViaApi(rig, { name: 'to-regenerate' })
      const { page } = await rig.newPage()
      await signIn(page, origin)
      await page.getByRole('link', { name: 'Edit to-regenerate' }).click()
      await page.getByRole('button', { name: 'Regenerate…' }).click()
      t.match(await page.getByRole('dialog').textContent(), /the old one stops working now/, 'says what happens')
      await confirmPassword(page, CUSTOMER.password, 'Regenerate')
      const value = await readValue(page)
      await closeValue(page)
      t.not(value, made.value, 'a new value')
      t.ok(await rig.active(value), 'the new value is active')
      t.notOk(await rig.active(made.value), 'the old value is inactive')
    })

    t.test('regenerate with a 1 h overlap: both values work, the old token shows as replaced', async (t) => {
      const made = await createTokenViaApi(rig, { name: 'to-overlap' })
      const { page, problems } = await rig.newPage()
      await signIn(page, origin)
      await page.getByRole('link', { name: 'Edit to-overlap' }).click()
      await page.getByRole('button', { name: 'Regenerate…' }).click()
      const dialog = page.getByRole('dialog')
      await dialog.getByRole('radio', { name: '1 hour' }).check()
      t.match(await dialog.textContent(), /the old one keeps working for 1 h/, 'says how long the old value works')
      await confirmPassword(page, CUSTOMER.password, 'Regenerate')
      const value = await readValue(page)
      await closeValue(page)
      t.ok(await rig.active(made.value), 'the old value still works during the overlap')
      await page.locator('.badge.superseded').first().waitFor()
      t.match(
        await page.locator('.badge.superseded').first().textContent(),
        /replaced, old value works until/,
        'the old token is listed as replaced, with the end of its overlap'
      )
      t.ok(await rig.active(value), 'the new value works')
      t.same(problems, [], 'no CSP violation or page error')
    })

    t.test('an overlap past the server’s cap gets a sentence and changes nothing', async (t) => {
      const made = await createTokenViaApi(rig, { name: 'too-long-overlap' })
      const { page } = await rig.newPage()
      await signIn(page, origin)
      await page.getByRole('link', { name: 'Edit too-long-overlap' }).click()
      await page.getByRole('button', { name: 'Regenerate…' }).click()
      const dialog = page.getByRole('dialog')
      await dialog.getByRole('radio', { name: 'a number of seconds…' }).check()
      await dialog.getByLabel('Seconds', { exact: true }).fill('9999999')
      await confirmPassword(page, CUSTOMER.password, 'Regenerate')
      await dialog.getByRole('alert').waitFor()
      t.match(await dialog.getByRole('alert').textContent(), /longer than this server allows/, 'a human sentence')
      t.ok(await rig.active(made.value), 'the token is unchanged')
    })

    t.test('last used: "never", then the time and address of the last use', async (t) => {
      const made = await createTokenViaApi(rig, { name: 'to-use', scopes: ['tokens:read'] })
      const { page } = await rig.newPage()
      await signIn(page, origin)
      const row = page.getByRole('row').filter({ has: page.getByText('to-use', { exact: true }) })
      t.equal((await row.locator('td[data-label="Last used"]').textContent())?.trim(), 'never', 'never used')
      const me = await rig.ta.app.inject({
        url: '/v1/me',
        headers: { authorization: `Bearer ${made.value}`, 'user-agent': 'deploy-bot/1.0' }
      })
      t.equal(me.statusCode, 200, 'the token is used')
      await rig.ta.app.authority.lastUsed.flush()
      await page.getByRole('button', { name: 'Refresh' }).click()
      const cell = row.locator('td[data-label="Last used"]')
      await cell.locator('time').waitFor()
      t.match(await cell.textContent(), /deploy-bot\/1\.0/, 'with the client that used it')
      t.match(await cell.textContent(), /127\.0\.0\.1/, 'and its address')

      // the Use filter asks the API (used_since / unused_since) and shows only what it answers
      await createTokenViaApi(rig, { name: 'never-used', scopes: ['tokens:read'] })
      const named = (name: string) => page.getByRole('row').filter({ has: page.getByText(name, { exact: true }) })
      const answered = page.waitForResponse((r) => new URL(r.url()).searchParams.has('used_since'))
      await page.getByLabel('Use', { exact: true }).selectOption('used in the last 7 days')
      await answered
      await named('to-use').waitFor()
      await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))')
      t.equal(await named('never-used').count(), 0, 'used recently: the unused token is not listed')
      await page.getByLabel('Use', { exact: true }).selectOption('no use in 30 days (or never)')
      await named('never-used').waitFor()
      t.equal(await named('to-use').count(), 0, 'no use in 30 days: the token used just now is not listed')
      await page.getByLabel('Use', { exact: true }).selectOption('')
      await named('to-use').waitFor()

      await page.getByRole('link', { name: 'Edit to-use' }).click()
      t.match(await page.locator('.last-used').textContent(), /Last used: .*deploy-bot/, 'the edit view shows it too')
    })

    t.test('a family revoked for reuse says so in words', async (t) => {
      const made = await createTokenViaApi(rig, { name: 'to-reuse' })
      const session = await login(rig.ta.app, 'customer', CUSTOMER.username, CUSTOMER.password)
      const regen = await rig.ta.app.inject({
        method: 'POST',
        url: `/v1/tokens/${made.id}/regenerate`,
        headers: bearer(session),
        payload: { password: CUSTOMER.password }
      })
      t.equal(regen.statusCode, 201, 'regenerated without overlap')
      const replay = await rig.ta.app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${made.value}` } })
      t.equal(replay.statusCode, 401, 'the stopped value is presented again')
      const { page } = await rig.newPage()
      await signIn(page, origin)
      await page.getByLabel('State').selectOption('revoked')
      await page.getByLabel('Search by name').fill('to-reuse')
      await page.locator('.state-reason').first().waitFor()
      t.match(
        (await page.locator('.state-reason').allTextContents()).join(' | '),
        /used again \(possible theft\)/,
        'reuse_detected in words'
      )
    })

    t.test('copy: a new token from this one’s parameters, the original still active', async (t) => {
      const made = await createTokenViaApi(rig, { name: 'to-copy', scopes: ['tokens:write'] })
      const { page } = await rig.newPage()
      await signIn(page, origin)
      await page.getByRole('button', { name: 'Copy to-copy' }).click()
      await confirmPassword(page, CUSTOMER.password, 'Create copy')
      const value = await readValue(page)
      await closeValue(page)
      t.ok(await rig.active(value), 'the copy is active')
      t.ok(await rig.active(made.value), 'the original still works')
      const me = await rig.ta.app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${value}` } })
      t.same(me.json().scopes, ['tokens:write'], 'with the same scopes')
    })

    t.test('select three with a Shift-click range and remove them', async (t) => {
      const made = []
      for (const n of ['rm-1', 'rm-2', 'rm-3', 'rm-keep']) made.push(await createTokenViaApi(rig, { name: n }))
      const { page } = await rig.newPage()
      await signIn(page, origin)
      await page.getByLabel('Search by name').fill('rm-')
      // newest first: rm-keep, rm-3, rm-2, rm-1
      await page.getByRole('checkbox', { name: 'Select rm-3' }).click()
      await page.getByRole('checkbox', { name: 'Select rm-1' }).click({ modifiers: ['Shift'] })
      t.ok(await page.getByRole('checkbox', { name: 'Select rm-2' }).isChecked(), 'Shift-click checks the range')
      t.notOk(await page.getByRole('checkbox', { name: 'Select rm-keep' }).isChecked(), 'outside the range stays')
      await page.getByRole('button', { name: 'Remove selected (3)' }).click()
      const dialog = page.getByRole('dialog')
      for (const n of ['rm-1', 'rm-2', 'rm-3']) t.ok(await shown(dialog.getByText(n)), `the dialog names ${n}`)
      await confirmPassword(page, CUSTOMER.password, 'Remove')
      await page.getByText('Removed 3 tokens.').waitFor()
      for (const [i, m] of made.entries())
        t.equal(await rig.active(m.value), i === 3, `${['rm-1', 'rm-2', 'rm-3', 'rm-keep'][i]}`)
      // select all selects every active token listed
      await page.getByRole('checkbox', { name: 'Select all active tokens' }).check()
      t.ok(await page.getByRole('checkbox', { name: 'Select rm-keep' }).isChecked(), 'select all')
    })

    t.test('the list shows the answer to the filter chosen last, not a slower earlier one', async (t) => {
      const { page } = await rig.newPage()
      await signIn(page, origin)
      await page.locator('table.tokens tbody tr').first().waitFor()
      // the next unfiltered page is held back until the "revoked" page has been shown
      let release!: () => void
      const held = new Promise<void>((resolve) => {
        release = resolve
      })
      const unfiltered = (url: URL) => url.pathname === '/v1/tokens' && !url.searchParams.has('state')
      await page.route(unfiltered, async (route) => {
        await held
        await route.continue()
      })
      const badges = 'table.tokens tbody td[data-label="State"] .badge'
      await page.getByRole('button', { name: 'Refresh' }).click()
      await page.getByLabel('State').selectOption('revoked')
      // the "revoked" page is in and shown (the list held active rows before)
      // (polled from here: the console's CSP forbids the string eval a waitForFunction would need)
      for (const deadline = Date.now() + 15_000; ; await page.waitForTimeout(20)) {
        const shown = await page.locator(badges).allTextContents()
        if (shown.length > 0 && shown.every((s) => s === 'revoked')) break
        if (Date.now() > deadline) throw new Error(`the revoked page was never shown alone: ${shown.join(', ')}`)
      }
      const late = page.waitForEvent('requestfinished', (r) => unfiltered(new URL(r.url())))
      release()
      await late
      // the late body is read; give the page time to parse and render it, were it going to
      await page.waitForTimeout(300)
      await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))')
      const states = await page.locator(badges).allTextContents()
      t.ok(states.length > 0, 'revoked tokens are listed')
      t.same([...new Set(states)], ['revoked'], 'only revoked tokens, as the filter says')
      t.equal(await page.getByLabel('State').inputValue(), 'revoked')
    })

    t.test('keyboard only: generate a token without the mouse', async (t) => {
      const { page } = await rig.newPage()
      await signIn(page, origin)
      await page.locator('body').focus()
      await tabTo(page, 'Generate new token')
      await page.keyboard.press('Enter')
      await page.getByRole('heading', { name: 'Generate a new token' }).waitFor()
      await tabTo(page, 'Name')
      await page.keyboard.type('by keyboard')
      await tabTo(page, 'Generate token')
      await page.keyboard.press('Enter')
      await page.getByRole('dialog').waitFor()
      t.equal(
        await page.evaluate('document.activeElement.labels?.[0]?.textContent'),
        'Your password',
        'the dialog takes focus on its password field'
      )
      await page.keyboard.type(CUSTOMER.password)
      await page.keyboard.press('Enter')
      const value = await readValue(page)
      t.ok(await rig.active(value), 'generated')
      await tabTo(page, 'I have saved it, close')
      await page.keyboard.press('Enter')
      await page.getByRole('dialog').waitFor({ state: 'detached' })
      t.ok(await shown(page.locator('.token-name').getByText('by keyboard', { exact: true })), 'listed')
    })

    t.test('XSS through a token name and description is inert', async (t) => {
      const name = '<img src=x onerror="window.__xss=1">'
      const description = '<script>window.__xss=2</script><b onmouseover="window.__xss=3">bold</b>'
      await createTokenViaApi(rig, { name, description })
      const { page, problems } = await rig.newPage()
      await signIn(page, origin)
      await page.locator('.token-name').getByText(name, { exact: true }).waitFor()
      t.ok(
        await shown(page.locator('.token-description').getByText(description, { exact: true })),
        'the description shows as text'
      )
      t.equal(await page.locator('main img, main script, main b').count(), 0, 'no element made from user text')
      await page.getByRole('button', { name: `Copy ${name}` }).click()
      t.ok(await shown(page.getByRole('dialog').getByText(name, { exact: false })), 'as text in dialogs too')
      t.equal(await page.evaluate('window.__xss'), undefined, 'no script ran')
      t.same(problems, [], 'no CSP violation (nothing even tried to run)')
    })
  })
}

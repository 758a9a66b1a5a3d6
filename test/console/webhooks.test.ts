import t from 'tap'
import { ADMIN, bearer, createAccount } from '../support/authority.js'
import { BACKEND_NAMES } from '../support/backends.js'
import {
  axeViolations,
  browserSkip,
  confirmPassword,
  installed,
  shown,
  signIn,
  signInAdmin,
  startConsole
} from '../support/console.js'
import { Receiver, waitFor } from '../support/webhook-receiver.js'

/**
 * The Webhooks screen of the console in a real browser against a real authority and a real
 * receiver on loopback: shown only with webhooks:read, add (secret once), test event and its
 * delivery log, pause/resume, rotate secret, delete, read-only admins, XSS through a description.
 */
t.setTimeout(900_000)

const FAST = { WEBHOOK_POLL_MS: '50', WEBHOOK_RETRY_BASE_MS: '50', WEBHOOK_RETRY_MAX_DELAY_MS: '200' }

for (const backend of BACKEND_NAMES()) {
  t.test(`console webhooks (${backend})`, { skip: browserSkip }, async (t) => {
    if (!installed) return t.fail('chromium is required in CI (apt-get install -y chromium)')
    const rig = await startConsole(t, backend, { env: FAST })
    const { origin } = rig
    const receiver = await Receiver.start()
    t.teardown(() => receiver.close())

    /** adds an endpoint through the form; returns the secret shown once */
    const addEndpoint = async (page: import('playwright-core').Page, description: string): Promise<string> => {
      await page.getByRole('link', { name: 'Webhooks', exact: true }).click()
      await page.getByRole('heading', { name: 'Webhooks', exact: true }).waitFor()
      await page.getByRole('button', { name: 'Add endpoint' }).click()
      await page.getByLabel('URL').fill(receiver.url)
      await page.getByLabel('Description (optional)').fill(description)
      await page.getByRole('checkbox', { name: /token\.revoked/ }).check()
      await page.getByRole('checkbox', { name: /token\.reuse_detected/ }).check()
      await page
        .getByRole('form', { name: 'New webhook endpoint' })
        .getByRole('button', { name: 'Add endpoint' })
        .click()
      await confirmPassword(page, ADMIN.password, 'Add')
      const dialog = page.getByRole('dialog', { name: 'Webhook signing secret' })
      await dialog.waitFor()
      const secret = await dialog.locator('.secret').inputValue()
      await page.getByRole('button', { name: 'I have saved it, close' }).click()
      await dialog.waitFor({ state: 'detached' })
      return secret
    }

    t.test('a customer and an admin without webhooks:read see no Webhooks screen', async (t) => {
      const { page } = await rig.newPage()
      await signIn(page, origin)
      t.equal(await page.getByRole('link', { name: 'Webhooks', exact: true }).count(), 0, 'no link for a customer')
      await page.goto(`${origin}/console/webhooks`)
      await page.getByRole('heading', { name: 'Not available' }).waitFor()
      await page.context().close()

      await createAccount(rig.ta, {
        username: 'accounts-only',
        password: 'accounts-only-password',
        kind: 'admin',
        permissions: ['accounts:read']
      })
      const other = await rig.newPage()
      await signIn(other.page, origin, { username: 'accounts-only', password: 'accounts-only-password' }, 'admin')
      t.equal(
        await other.page.getByRole('link', { name: 'Webhooks', exact: true }).count(),
        0,
        'no link without webhooks:read'
      )
      t.equal(await other.page.getByRole('link', { name: 'Accounts', exact: true }).count(), 1, 'but Accounts is there')
    })

    t.test('add an endpoint: the secret once, listed; a test event shows up in the delivery log', async (t) => {
      const { page, problems } = await rig.newPage()
      await signInAdmin(page, origin)
      const secret = await addEndpoint(page, 'security team')
      t.match(secret, /^whsec_/, 'the signing secret is shown once')
      receiver.secret = secret
      const row = page.getByRole('row').filter({ hasText: 'security team' })
      await row.waitFor()
      t.match(await row.textContent(), /token\.reuse_detected, token\.revoked/, 'with its event types')
      t.equal(await page.locator('body').getByText(secret).count(), 0, 'the secret is gone from the page')
      await row.getByRole('link', { name: /^Open/ }).click()
      await page.getByRole('heading', { name: 'Delivery log' }).waitFor()
      await page.getByText('No deliveries yet.').waitFor()
      t.pass('an empty log')
      await page.getByRole('button', { name: 'Send test event' }).click()
      await page.getByText('A test event is queued').waitFor()
      await waitFor('the test event', () => receiver.received.some((r) => r.type === 'webhook.test'), 20_000)
      t.ok(receiver.received.find((r) => r.type === 'webhook.test')?.verified, 'signed with the secret shown')
      // the worker marks it delivered right after the answer
      const log = page.getByRole('table', { name: /Deliveries/ })
      for (let i = 0; i < 40; i++) {
        await page.getByRole('button', { name: 'Refresh log' }).click()
        if ((await log.count()) && /delivered/.test((await log.textContent()) ?? '')) break
        await page.waitForTimeout(250)
      }
      const delivered = log.getByRole('row').filter({ hasText: 'webhook.test' })
      t.match(await delivered.locator('td[data-label="Status"]').textContent(), /delivered/, 'status')
      t.equal((await delivered.locator('td[data-label="HTTP status"]').textContent())?.trim(), '204', 'HTTP status')
      t.match(await delivered.locator('td[data-label="Latency"]').textContent(), /^\d+ ms$/, 'latency')
      t.equal((await delivered.locator('td[data-label="Attempts"]').textContent())?.trim(), '1', 'attempts')
      t.same(await axeViolations(page), [], 'axe-core: no serious or critical violation')
      t.same(problems, [], 'no CSP violation or page error')
    })

    t.test('pause, resume, rotate the secret and delete, each behind the password', async (t) => {
      const { page } = await rig.newPage()
      await signInAdmin(page, origin)
      const first = await addEndpoint(page, 'to manage')
      await page.getByRole('row').filter({ hasText: 'to manage' }).getByRole('link', { name: /^Open/ }).click()
      await page.getByRole('button', { name: 'Pause' }).click()
      await confirmPassword(page, ADMIN.password, 'Pause')
      await page.getByRole('status').getByText('Paused.').waitFor()
      t.ok(await shown(page.locator('.badge.paused')), 'shown as paused')
      const id = new URL(page.url()).pathname.split('/').pop()!
      const read = async () =>
        (await rig.ta.app.inject({ url: `/v1/webhooks/${id}`, headers: bearer(rig.ta.adminToken) })).json()
      t.equal((await read()).enabled, false, 'paused on the server')
      await page.getByRole('button', { name: 'Resume' }).click()
      await confirmPassword(page, ADMIN.password, 'Resume')
      await page.getByRole('status').getByText('Resumed.').waitFor()
      t.equal((await read()).enabled, true, 'resumed on the server')

      await page.getByRole('button', { name: 'Rotate secret…' }).click()
      await confirmPassword(page, 'not-the-password', 'Rotate')
      await page.getByRole('dialog').getByRole('alert').waitFor()
      t.match(
        await page.getByRole('dialog').getByRole('alert').textContent(),
        /password is not right/,
        'wrong password'
      )
      await confirmPassword(page, ADMIN.password, 'Rotate')
      const dialog = page.getByRole('dialog', { name: 'Webhook signing secret' })
      await dialog.waitFor()
      const second = await dialog.locator('.secret').inputValue()
      t.match(second, /^whsec_/, 'a new secret, shown once')
      t.not(second, first, 'different from the first')
      await page.getByRole('button', { name: 'I have saved it, close' }).click()

      await page.getByRole('button', { name: 'Delete…' }).click()
      await confirmPassword(page, ADMIN.password, 'Delete')
      await page.getByRole('heading', { name: 'Webhooks', exact: true }).waitFor()
      await page.getByRole('row').filter({ hasText: 'security team' }).waitFor()
      t.equal((await read()).code, 'not_found', 'deleted on the server')
      t.equal(await page.getByRole('row').filter({ hasText: 'to manage' }).count(), 0, 'gone from the list')
    })

    t.test('an admin with webhooks:read only sees the screen without write buttons', async (t) => {
      await createAccount(rig.ta, {
        username: 'hook-reader',
        password: 'hook-reader-password',
        kind: 'admin',
        permissions: ['webhooks:read']
      })
      const { page } = await rig.newPage()
      await signIn(page, origin, { username: 'hook-reader', password: 'hook-reader-password' }, 'admin')
      await page.getByRole('link', { name: 'Webhooks', exact: true }).click()
      await page.getByRole('row').filter({ hasText: 'security team' }).waitFor()
      t.equal(await page.getByRole('button', { name: 'Add endpoint' }).count(), 0, 'no Add')
      await page.getByRole('row').filter({ hasText: 'security team' }).getByRole('link', { name: /^Open/ }).click()
      await page.getByRole('heading', { name: 'Delivery log' }).waitFor()
      for (const name of ['Pause', 'Send test event', 'Rotate secret…', 'Delete…'])
        t.equal(await page.getByRole('button', { name }).count(), 0, `no ${name}`)
    })

    t.test('XSS through a description is inert; the screen fits 375 px', async (t) => {
      const description = '<img src=x onerror="window.__xss=1">'
      const res = await rig.ta.app.inject({
        method: 'POST',
        url: '/v1/webhooks',
        headers: bearer(rig.ta.adminToken),
        payload: { url: receiver.url, description, event_types: ['token.revoked'], password: ADMIN.password }
      })
      t.equal(res.statusCode, 201, 'created through the API')
      const { page, problems } = await rig.newPage({ viewport: { width: 375, height: 740 } })
      await signInAdmin(page, origin)
      await page.getByRole('link', { name: 'Webhooks', exact: true }).click()
      await page.getByText(description, { exact: true }).waitFor()
      t.equal(await page.locator('main img').count(), 0, 'no element made from user text')
      t.equal(await page.evaluate('window.__xss'), undefined, 'no script ran')
      t.ok(
        await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'),
        'no sideways scrolling at 375 px'
      )
      t.same(await axeViolations(page), [], 'axe-core at 375 px')
      t.same(problems, [], 'no CSP violation or page error')
    })
  })
}

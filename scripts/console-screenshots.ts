/**
 * Captures every screen of the token console as a PNG under docs/console/ (the README and
 * docs/console.md show them): a throwaway embedded authority with sample accounts and tokens,
 * driven by Debian's chromium through playwright-core.
 *
 *   npm run console:screenshots
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { ADMIN, bearer, login } from '../test/support/authority.js'
import { closeValue, createTokenViaApi, CUSTOMER, signIn, signInAdmin, startConsole } from '../test/support/console.js'

const OUT = join(import.meta.dirname, '..', 'docs', 'console')
const DAY = 86_400_000

const teardowns: (() => unknown)[] = []
const t = { teardown: (fn: () => unknown) => teardowns.push(fn) }

try {
  await mkdir(OUT, { recursive: true })
  const rig = await startConsole(t, 'embedded')
  const { origin } = rig
  const ahead = (days: number) => new Date(Date.now() + days * DAY).toISOString()
  await createTokenViaApi(rig, {
    name: 'nightly backup',
    description: 'reads token metadata for the audit',
    preset: 'read-only',
    expires_at: ahead(180)
  })
  const old = await createTokenViaApi(rig, { name: 'laptop', scopes: ['tokens:read'], expires_at: ahead(20) })
  await createTokenViaApi(rig, { name: 'staging smoke tests', scopes: ['tokens:read'], expires_at: ahead(3) })
  await createTokenViaApi(rig, {
    name: 'CI deploys',
    description: 'GitHub Actions: rotates its own token',
    preset: 'ci',
    expires_at: ahead(60)
  })
  const session = await login(rig.ta.app, 'customer', CUSTOMER.username, CUSTOMER.password)
  await rig.ta.app.inject({
    method: 'DELETE',
    url: `/v1/tokens/${old.id}`,
    headers: bearer(session),
    payload: { password: CUSTOMER.password }
  })
  for (const [username, kind] of [
    ['billing-service', 'service'],
    ['bob', 'customer'],
    ['carol', 'customer'],
    ['ops-admin', 'admin']
  ] as const) {
    await rig.ta.app.inject({
      method: 'POST',
      url: '/v1/accounts',
      headers: bearer(rig.ta.adminToken),
      payload: { username, password: `${username}-password-1`, kind, current_password: ADMIN.password }
    })
  }

  const shot = async (page: Page, name: string) => {
    await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: false })
    console.log(`docs/console/${name}.png`)
  }

  const { page } = await rig.newPage({ viewport: { width: 1200, height: 760 } })
  await page.goto(`${origin}/console/`)
  await page.getByLabel('Username').waitFor()
  await shot(page, 'sign-in')
  await signIn(page, origin)
  await page.locator('.token-name').getByText('CI deploys', { exact: true }).waitFor()
  await shot(page, 'tokens')
  await page.getByRole('link', { name: 'Generate new token' }).click()
  await page.getByLabel('Name').fill('release pipeline')
  await page.getByLabel('Description (optional)').fill('publishes tagged builds')
  await shot(page, 'generate-preset')
  await page.getByLabel('Custom scopes').check()
  await page.getByRole('checkbox', { name: /tokens:read/ }).check()
  await shot(page, 'generate-custom')
  await page.getByRole('button', { name: 'Generate token' }).click()
  await page.getByRole('dialog').getByLabel('Your password').fill('password-typed')
  await shot(page, 'password-dialog')
  await page.getByRole('dialog').getByLabel('Your password').fill(CUSTOMER.password)
  await page.getByRole('dialog').getByRole('button', { name: 'Generate' }).click()
  await page.getByRole('dialog', { name: 'Your new token' }).waitFor()
  await shot(page, 'value-dialog')
  await closeValue(page)
  await page.getByRole('link', { name: 'Edit CI deploys', exact: true }).click()
  await page.getByRole('heading', { name: 'Edit token' }).waitFor()
  await shot(page, 'edit')
  await page.getByRole('link', { name: 'Password' }).click()
  await shot(page, 'change-password')
  await page.context().close()

  const mobile = await rig.newPage({ viewport: { width: 375, height: 740 }, deviceScaleFactor: 2 })
  await signIn(mobile.page, origin)
  await mobile.page.locator('.token-name').getByText('CI deploys', { exact: true }).waitFor()
  await shot(mobile.page, 'tokens-375px')
  await mobile.page.context().close()

  const admin = await rig.newPage({ viewport: { width: 1200, height: 760 } })
  await signInAdmin(admin.page, origin)
  await admin.page.getByRole('link', { name: 'Accounts' }).click()
  await admin.page.getByRole('link', { name: 'bob' }).waitFor()
  await shot(admin.page, 'accounts')
  await admin.page.getByText('Revoke tokens matching criteria').click()
  await admin.page.getByLabel('Token kind').selectOption('pat')
  await admin.page.getByLabel('Name starts with').fill('staging')
  await admin.page.getByRole('button', { name: 'Preview' }).click()
  await admin.page
    .getByRole('status')
    .filter({ hasText: /match(es)?\./ })
    .waitFor()
  await admin.page.locator('.revoke-matching').scrollIntoViewIfNeeded()
  await shot(admin.page, 'revoke-matching')
  await admin.page.getByRole('link', { name: CUSTOMER.username }).click()
  await admin.page.getByRole('heading', { name: 'Tokens', exact: true }).waitFor()
  await shot(admin.page, 'account')

  // webhooks: two endpoints and a few deliveries (this authority itself answers 404 on these paths)
  for (const [path, description, events] of [
    ['/hooks/security', 'security team', ['token.revoked', 'token.reuse_detected', 'token.leaked']],
    ['/hooks/audit', 'audit archive', ['token.created', 'token.regenerated', 'token.revoked', 'token.expired']]
  ] as const) {
    const res = await rig.ta.app.inject({
      method: 'POST',
      url: '/v1/webhooks',
      headers: bearer(rig.ta.adminToken),
      payload: { url: `${origin}${path}`, description, event_types: events, password: ADMIN.password }
    })
    await rig.ta.app.inject({
      method: 'POST',
      url: `/v1/webhooks/${res.json().endpoint.id}/test`,
      headers: bearer(rig.ta.adminToken)
    })
  }
  await admin.page.getByRole('link', { name: 'Webhooks', exact: true }).click()
  await admin.page.getByRole('row').filter({ hasText: 'security team' }).waitFor()
  await shot(admin.page, 'webhooks')
  await admin.page.getByRole('row').filter({ hasText: 'security team' }).getByRole('link', { name: /^Open/ }).click()
  await admin.page.getByRole('heading', { name: 'Delivery log' }).waitFor()
  await new Promise((resolve) => setTimeout(resolve, 1500))
  await admin.page.getByRole('button', { name: 'Refresh log' }).click()
  await admin.page.getByRole('table', { name: /Deliveries/ }).waitFor()
  await shot(admin.page, 'webhook')
} finally {
  for (const fn of teardowns.reverse()) await fn()
}

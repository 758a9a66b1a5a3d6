import type { Page } from 'playwright-core'
import t from 'tap'
import { ADMIN } from '../support/authority.js'
import { BACKEND_NAMES } from '../support/backends.js'
import {
  axeViolations,
  browserSkip,
  closeValue,
  confirmPassword,
  createTokenViaApi,
  CUSTOMER,
  installed,
  signIn,
  signInAdmin,
  startConsole
} from '../support/console.js'

/**
 * Every screen of the console: axe-core finds no serious or critical violation, the page works at
 * 375 px without sideways scrolling, the headers are strict, and the first screen is quick.
 */
t.setTimeout(900_000)

for (const backend of BACKEND_NAMES()) {
  t.test(`console screens (${backend})`, { skip: browserSkip }, async (t) => {
    if (!installed) return t.fail('chromium is required in CI (apt-get install -y chromium)')
    const rig = await startConsole(t, backend)
    const { origin } = rig
    await createTokenViaApi(rig, { name: 'deploys', description: 'CI deploys to staging', preset: 'ci' })
    await createTokenViaApi(rig, {
      name: 'short-lived',
      scopes: ['tokens:read'],
      expires_at: new Date(Date.now() + 3 * 86_400_000).toISOString()
    })

    t.test('headers: strict CSP, no framing, no caching of authenticated answers', async (t) => {
      const page = await rig.ta.app.inject({ url: '/console/' })
      t.equal(page.statusCode, 200)
      const csp = String(page.headers['content-security-policy'])
      t.match(csp, /default-src 'self'/, 'default-src self')
      t.match(csp, /frame-ancestors 'none'/, 'no framing')
      t.notMatch(csp, /unsafe-inline|unsafe-eval/, 'no inline script or eval')
      const deep = await rig.ta.app.inject({ url: '/console/tokens/new' })
      t.equal(deep.statusCode, 200, 'a deep link falls back to index.html')
      t.equal(deep.body, page.body)
      const root = await rig.ta.app.inject({ url: '/' })
      t.equal(root.statusCode >= 300 && root.statusCode < 400, true, 'GET / redirects')
      t.equal(root.headers.location, '/console/')
      // what the console reads with its session is never kept by a browser or a proxy
      const session = await rig.ta.app.inject({
        method: 'POST',
        url: '/v1/auth/session',
        headers: { 'x-requested-by': 'token-console' },
        payload: { realm: 'customer', username: CUSTOMER.username, password: CUSTOMER.password }
      })
      t.equal(session.statusCode, 200, session.body)
      const cookie = [session.headers['set-cookie']]
        .flat()
        .map((c) => String(c).split(';')[0])
        .join('; ')
      const tokens = await rig.ta.app.inject({
        url: '/v1/tokens',
        headers: { cookie, 'x-requested-by': 'token-console', 'sec-fetch-site': 'same-origin' }
      })
      t.equal(tokens.statusCode, 200, tokens.body)
      t.equal(tokens.headers['cache-control'], 'no-store', 'an authenticated answer: no-store')
    })

    t.test('the first screen is usable quickly on loopback, in five requests', async (t) => {
      const { page } = await rig.newPage()
      const requested: string[] = []
      page.on('request', (r) => requested.push(new URL(r.url()).pathname))
      // in-page time from navigation start to a usable sign-in form; the best of five loads, as
      // the CI machine is shared (the first is cold: nothing cached)
      const times: number[] = []
      for (let i = 0; i < 5; i++) {
        requested.length = 0
        await page.goto(`${origin}/console/`)
        await page.getByLabel('Username').waitFor()
        times.push(Math.round((await page.evaluate('performance.now()')) as number))
        if (i === 0)
          t.same(
            requested.filter(
              (p) =>
                !['/console/', '/console/favicon.svg', '/v1/auth/session'].includes(p) &&
                !p.startsWith('/console/assets/')
            ),
            [],
            'the page, its assets, the icon and the session check: nothing else'
          )
      }
      t.equal(
        requested.filter((p) => p.startsWith('/console/assets/')).length <= 2,
        true,
        'one script, one style sheet'
      )
      const best = Math.min(...times)
      t.comment(
        `first screen (navigation → sign-in form usable): cold ${times[0]} ms, best ${best} ms (${times.join(', ')})`
      )
      t.ok(
        best < 3000,
        `usable in ${best} ms (goal 1 s on an idle machine; the bound is loose for a shared CI machine)`
      )
      await signIn(page, origin)
      await page.reload()
      await page.locator('.token-name').getByText('deploys', { exact: true }).waitFor()
      t.comment(
        `tokens screen after a reload, signed in: ${Math.round((await page.evaluate('performance.now()')) as number)} ms`
      )
    })

    for (const width of [1280, 375]) {
      t.test(`every screen at ${width} px: no serious or critical axe violation, no sideways scroll`, async (t) => {
        const check = async (page: Page, problems: string[], screen: string) => {
          t.same(await axeViolations(page), [], `${screen}: axe-core finds nothing serious or critical`)
          const overflow = (await page.evaluate(
            'document.documentElement.scrollWidth - document.documentElement.clientWidth'
          )) as number
          t.ok(overflow <= 0, `${screen}: fits ${width} px (${overflow} px too wide)`)
          t.same(problems, [], `${screen}: no CSP violation or page error`)
        }
        const viewport = { viewport: { width, height: 800 } }
        const { page: p, problems } = await rig.newPage(viewport)
        await p.goto(`${origin}/console/`)
        await p.getByLabel('Username').waitFor()
        await check(p, problems, 'sign-in')
        await signIn(p, origin)
        await check(p, problems, 'tokens')
        await p.getByRole('link', { name: 'Generate new token' }).click()
        await p.getByLabel('A preset').waitFor()
        await check(p, problems, 'generate (preset)')
        await p.getByLabel('Custom scopes').check()
        await check(p, problems, 'generate (custom scopes)')
        await p.getByLabel('Name').fill('x')
        await p.getByRole('checkbox', { name: /tokens:read/ }).check()
        await p.getByRole('button', { name: 'Generate token' }).click()
        await p.getByRole('dialog').waitFor()
        await check(p, problems, 'password dialog')
        await p.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click()
        await p.getByRole('link', { name: 'Tokens' }).click()
        await p.getByRole('button', { name: 'Copy deploys', exact: true }).click()
        await confirmPassword(p, CUSTOMER.password, 'Create copy')
        await p.getByRole('dialog', { name: 'Your new token' }).waitFor()
        await check(p, problems, 'value dialog')
        await closeValue(p)
        await p.getByRole('link', { name: 'Edit deploys', exact: true }).click()
        await p.getByRole('heading', { name: 'Edit token' }).waitFor()
        await check(p, problems, 'edit')
        await p.getByRole('link', { name: 'Password' }).click()
        await p.getByRole('heading', { name: 'Change your password' }).waitFor()
        await check(p, problems, 'change password')
        await p.context().close()

        const { page: a, problems: adminProblems } = await rig.newPage(viewport)
        await signInAdmin(a, origin)
        await a.getByRole('link', { name: 'Accounts' }).click()
        await a.getByRole('link', { name: CUSTOMER.username }).waitFor()
        await check(a, adminProblems, 'accounts')
        await a.getByRole('button', { name: 'Create account' }).click()
        await a.getByRole('dialog').waitFor()
        await check(a, adminProblems, 'create account dialog')
        await a.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click()
        await a.getByRole('link', { name: CUSTOMER.username }).click()
        await a.getByRole('heading', { name: 'Tokens', exact: true }).waitFor()
        await check(a, adminProblems, 'account')
        await a.getByRole('link', { name: 'Webhooks', exact: true }).click()
        await a.getByRole('heading', { name: 'Webhooks', exact: true }).waitFor()
        await a.getByRole('button', { name: 'Add endpoint' }).click()
        await a.getByLabel('URL').waitFor()
        await check(a, adminProblems, 'webhooks (add form)')
        await a.getByLabel('URL').fill(`${origin}/hooks-${width}`)
        await a.getByRole('checkbox', { name: /token\.revoked/ }).check()
        await a
          .getByRole('form', { name: 'New webhook endpoint' })
          .getByRole('button', { name: 'Add endpoint' })
          .click()
        await confirmPassword(a, ADMIN.password, 'Add')
        await a.getByRole('dialog', { name: 'Webhook signing secret' }).waitFor()
        await check(a, adminProblems, 'webhook secret dialog')
        await a.getByRole('button', { name: 'I have saved it, close' }).click()
        await a.getByRole('link', { name: `Open ${origin}/hooks-${width}` }).click()
        await a.getByRole('heading', { name: 'Delivery log' }).waitFor()
        await check(a, adminProblems, 'webhook endpoint')
        await a.context().close()
      })
    }
  })
}

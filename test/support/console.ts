import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import type { Browser, BrowserContext, BrowserContextOptions, Locator, Page } from 'playwright-core'
import { buildConsole, CONSOLE_OUT, CONSOLE_SRC } from '../../scripts/build-console.js'
import type { Backend } from './backends.js'
import {
  ADMIN,
  bearer,
  createAccount,
  createService,
  introspect,
  login,
  startAuthority,
  type TestAuthority
} from './authority.js'

/**
 * The token console in a real browser: Debian's chromium driven by playwright-core against a real
 * authority listening on a loopback port. Skipped only when chromium is missing and CI is not set.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const installed = existsSync(CHROMIUM)
export const browserSkip: string | false =
  !installed && !process.env.CI
    ? `chromium is not installed at ${CHROMIUM} (apt-get install -y chromium): browser test not run`
    : false

export const CUSTOMER = { username: 'alice', password: 'alice-password-1' }

const ROOT = join(import.meta.dirname, '..', '..')

function newest(dir: string): number {
  let t = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs)
  }
  return t
}

/** Builds dist/console when it is missing or older than its sources (once per test process). */
let built: Promise<void> | undefined
export function ensureConsoleBuilt(): Promise<void> {
  built ??= (async () => {
    const index = join(CONSOLE_OUT, 'index.html')
    const sources = Math.max(
      newest(CONSOLE_SRC),
      statSync(join(ROOT, 'openapi/client/schema.ts')).mtimeMs,
      statSync(join(ROOT, 'scripts/build-console.ts')).mtimeMs
    )
    if (!existsSync(index) || statSync(index).mtimeMs < sources) await buildConsole()
  })()
  return built
}

/** axe-core's source, evaluated in the page through the DevTools protocol (the page's CSP forbids inline script) */
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

export interface ConsoleRig {
  ta: TestAuthority
  /** http://127.0.0.1:<port> */
  origin: string
  browser: Browser
  /** a service token holding tokens:introspect, to ask whether a value is active */
  introspector: string
  customerId: string
  newPage(opts?: BrowserContextOptions): Promise<{ page: Page; context: BrowserContext; problems: string[] }>
  active(token: string): Promise<boolean>
}

type TapLike = { teardown(fn: () => unknown): void }

export async function startConsole(
  t: TapLike,
  backend: Backend['name'],
  opts: { env?: Record<string, string>; frozen?: number; chromiumArgs?: string[] } = {}
): Promise<ConsoleRig> {
  await ensureConsoleBuilt()
  const { chromium } = await import('playwright-core')
  const ta = await startAuthority(t, backend, {
    ...(opts.frozen !== undefined ? { frozen: opts.frozen } : {}),
    env: { CONSOLE_DIR: CONSOLE_OUT, ...opts.env }
  })
  const listened = await ta.app.listen({ port: 0, host: '127.0.0.1' })
  const origin = new URL(listened).origin
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...(opts.chromiumArgs ?? [])
    ]
  })
  t.teardown(() => browser.close())
  const customerId = await createAccount(ta, { ...CUSTOMER, kind: 'customer' })
  const { token: introspector } = await createService(ta, 'introspector', ['tokens:introspect'])
  return {
    ta,
    origin,
    browser,
    introspector,
    customerId,
    async newPage(contextOpts = {}) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...contextOpts })
      const page = await context.newPage()
      const problems: string[] = []
      page.on('console', (m) => {
        // "not signed in" is how the page learns it must show the sign-in form
        if (m.location().url.endsWith('/v1/auth/session') && /status of 401/.test(m.text())) return
        if (m.type() === 'error' || /Content Security Policy|Refused to/i.test(m.text()))
          problems.push(`console ${m.type()}: ${m.text()} (${m.location().url})`)
      })
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
      return { page, context, problems }
    },
    async active(token) {
      return (await introspect(ta, introspector, token)).active === true
    }
  }
}

/** Signs in through the form; resolves once the tokens screen shows. */
/**
 * Whether `locator` becomes visible within `timeout` ms. `isVisible()` answers at once, which races
 * the page's rendering after a click or a reload; this waits, as a person looking at it would.
 */
export async function shown(locator: Locator, timeout = 5_000): Promise<boolean> {
  try {
    await locator.waitFor({ state: 'visible', timeout })
    return true
  } catch {
    return false
  }
}

export async function signIn(
  page: Page,
  origin: string,
  who: { username: string; password: string } = CUSTOMER,
  realm: 'customer' | 'admin' = 'customer'
): Promise<void> {
  if (!page.url().startsWith(`${origin}/console`)) await page.goto(`${origin}/console/`)
  await page.getByLabel(realm === 'admin' ? 'Administrator' : 'Customer').check()
  await page.getByLabel('Username').fill(who.username)
  await page.getByLabel('Password').fill(who.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('button', { name: 'Sign out' }).waitFor()
}

export function signInAdmin(page: Page, origin: string): Promise<void> {
  return signIn(page, origin, ADMIN, 'admin')
}

/** Fills the password dialog that guards every change and confirms it. */
export async function confirmPassword(page: Page, password: string, button: string | RegExp): Promise<void> {
  const dialog = page.getByRole('dialog')
  await dialog.getByLabel('Your password').fill(password)
  await dialog.getByRole('button', { name: button }).click()
}

/** Reads the one-time value from its dialog. */
export async function readValue(page: Page): Promise<string> {
  const dialog = page.getByRole('dialog', { name: 'Your new token' })
  await dialog.waitFor()
  return dialog.locator('.secret').inputValue()
}

export async function closeValue(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'I have saved it, close' }).click()
  await page.getByRole('dialog', { name: 'Your new token' }).waitFor({ state: 'detached' })
}

/** A PAT of the customer made through the API (setup for the screens that list tokens). */
export async function createTokenViaApi(
  rig: ConsoleRig,
  body: { name: string; description?: string; scopes?: string[]; preset?: string; expires_at?: string }
): Promise<{ id: string; value: string }> {
  const session = await login(rig.ta.app, 'customer', CUSTOMER.username, CUSTOMER.password)
  const res = await rig.ta.app.inject({
    method: 'POST',
    url: '/v1/tokens',
    headers: bearer(session),
    payload: { ...(body.preset ? {} : { scopes: ['tokens:read'] }), ...body, password: CUSTOMER.password }
  })
  if (res.statusCode !== 201) throw new Error(`create token failed: ${res.statusCode} ${res.body}`)
  return { id: res.json().token.id, value: res.json().access_token }
}

export interface AxeViolation {
  id: string
  impact: string | null
  help: string
  nodes: { target: string[] }[]
}

/** serious and critical axe-core violations on the page as it is now */
export async function axeViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate('typeof axe !== "undefined"'))) await page.evaluate(AXE_SOURCE)
  const violations = (await page.evaluate(
    '(async () => (await axe.run(document, { resultTypes: ["violations"] })).violations)()'
  )) as AxeViolation[]
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
}

/** presses Tab until the focused element has this accessible label/text (keyboard-only flows) */
export async function tabTo(page: Page, name: string | RegExp, max = 60): Promise<void> {
  const matches = (s: string) => (typeof name === 'string' ? s.trim() === name : name.test(s))
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab')
    const label = (await page.evaluate(`(() => {
      const el = document.activeElement
      if (!el) return ''
      const byFor = el.id ? document.querySelector('label[for="' + el.id + '"]') : null
      const wrapping = el.closest('label')
      return (el.getAttribute('aria-label') || (byFor && byFor.textContent) || (wrapping && wrapping.textContent) || el.textContent || '').trim()
    })()`)) as string
    if (matches(label)) return
  }
  throw new Error(`Tab never reached ${String(name)}`)
}

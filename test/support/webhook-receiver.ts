import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

type Verify = (secret: string, headers: IncomingHttpHeaders, rawBody: string, toleranceSeconds?: number) => boolean

/**
 * The verification snippet of docs/webhooks.md, extracted from the page and imported: the tests run
 * the code readers copy.
 */
export async function docsVerifier(): Promise<Verify> {
  const page = readFileSync(new URL('../../docs/webhooks.md', import.meta.url), 'utf8')
  const block = /```js\n\/\/ verify-webhook\.mjs\n([\s\S]*?)```/.exec(page)
  if (block === null) throw new Error('docs/webhooks.md has no verify-webhook.mjs snippet')
  const file = join(mkdtempSync(join(tmpdir(), 'verify-webhook-')), 'verify-webhook.mjs')
  writeFileSync(file, block[1]!)
  const mod = (await import(pathToFileURL(file).href)) as { verifyWebhook: Verify }
  return mod.verifyWebhook
}

export type ReceiverMode = 'ok' | 'fail' | 'hang' | 'redirect'

export interface Received {
  id: string
  type: string
  body: string
  event: { id: string; type: string; created_at: string; data: Record<string, unknown> }
  headers: IncomingHttpHeaders
  /** the status this receiver answered (null: it never answered) */
  answered: number | null
  /** the snippet's verdict with the secret set on the receiver */
  verified: boolean
  /** Date.now() when the request arrived */
  at: number
}

/** A webhook receiver on a loopback port whose behaviour a test switches. */
export class Receiver {
  readonly received: Received[] = []
  mode: ReceiverMode = 'ok'
  secret = ''
  redirectTo = 'http://127.0.0.1:9/'
  toleranceSeconds = 300
  #server: Server
  #hanging = new Set<() => void>()

  private constructor(
    server: Server,
    readonly verify: Verify
  ) {
    this.#server = server
  }

  static async start(): Promise<Receiver> {
    const verify = await docsVerifier()
    const server = createServer()
    const r = new Receiver(server, verify)
    server.on('request', (req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8')
        const entry: Received = {
          id: String(req.headers['webhook-id']),
          type: String(req.headers['webhook-event']),
          body,
          event: JSON.parse(body) as Received['event'],
          headers: req.headers,
          answered: null,
          verified: r.verify(r.secret, req.headers, body, r.toleranceSeconds),
          at: Date.now()
        }
        r.received.push(entry)
        const answer = (status: number, headers: Record<string, string> = {}) => {
          entry.answered = status
          res.writeHead(status, headers).end()
        }
        if (r.mode === 'ok') answer(204)
        else if (r.mode === 'fail') answer(500)
        else if (r.mode === 'redirect') answer(302, { location: r.redirectTo })
        else r.#hanging.add(() => res.destroy())
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return r
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hooks`
  }

  /** events this receiver accepted (answered 2xx), by Webhook-Id */
  acceptedCounts(): Map<string, number> {
    const counts = new Map<string, number>()
    for (const e of this.received)
      if (e.answered !== null && e.answered < 300) counts.set(e.id, (counts.get(e.id) ?? 0) + 1)
    return counts
  }

  async close(): Promise<void> {
    for (const end of this.#hanging) end()
    this.#server.closeAllConnections()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}

export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10000
): Promise<number> {
  const started = Date.now()
  for (;;) {
    if (await check()) return Date.now() - started
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

// A stand-in for the token authority's POST /introspect, for the verifier package's unit tests:
// each test says what the authority answers (body, Cache-Control, status, delay) and counts calls.
// It also serves GET /v1/revocations as the authority does (Server-Sent Events: `id`, `event:
// revocation`, `event: reset` for a Last-Event-ID behind `oldestSeq`), which tests drive by hand.
// It also mints tokens of the authority's documented shape (prefix_kind_ + base64url of 99 bytes,
// CRC32 at offset 95 over the head and the first 95 bytes), without the authority's code.
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { crc32 } from 'node:zlib'

export interface Answer {
  status?: number
  body?: unknown
  /** raw text instead of JSON */
  text?: string
  cacheControl?: string
  delayMs?: number
}

export interface FakeAuthority {
  url: string
  credential: string
  /** introspection calls received */
  calls: number
  /** the tokens asked about, in order */
  asked: string[]
  /** what to answer for a token (default: inactive) */
  answer: (token: string) => Answer
  /** revocation stream: GET /v1/revocations */
  stream: {
    /** when set, the stream answers this status instead (e.g. 503 or 403) */
    refuse: number | null
    /** events so far (seq = index + 1) */
    log: Array<{ token_ids: string[]; account_id: string | null }>
    /** a Last-Event-ID older than oldestSeq - 1 gets `event: reset` */
    oldestSeq: number
    /** Last-Event-ID of every connection, in order (null: none sent) */
    resumedFrom: Array<string | null>
    /** connections open now */
    open: number
    /** append an event and send it to every open stream; returns its seq */
    revoke(tokenIds: string[], accountId?: string | null): number
    /** write raw text to every open stream */
    raw(text: string): void
    /** end every open stream (the consumer must reconnect) */
    drop(): void
  }
  close(): Promise<void>
}

export function shapedToken(prefix = 'tka', kind: 'pat' | 'lgn' | 'svc' = 'pat'): string {
  const head = `${prefix}_${kind}_`
  const body = randomBytes(99)
  body.writeUInt32BE(crc32(body.subarray(0, 95), crc32(head)), 95)
  return head + body.toString('base64url')
}

/** an active introspection answer in the authority's shape */
export function active(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    active: true,
    scope: 'orders:read',
    client_id: 'acc-1',
    username: 'dana',
    token_type: 'Bearer',
    sub: 'acc-1',
    jti: `tok-${randomBytes(4).toString('hex')}`,
    kind: 'customer',
    token_kind: 'pat',
    permissions: ['orders:read', 'orders:write'],
    ...overrides
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  let s = ''
  for await (const chunk of req) s += chunk
  return s
}

function sse(seq: number, e: { token_ids: string[]; account_id: string | null }): string {
  const data = {
    seq,
    at: new Date().toISOString(),
    token_ids: e.token_ids,
    account_id: e.account_id,
    reason: 'revoked'
  }
  return `id: ${seq}\nevent: revocation\ndata: ${JSON.stringify(data)}\n\n`
}

export async function startFakeAuthority(): Promise<FakeAuthority> {
  const credential = shapedToken('tka', 'svc')
  const streams = new Set<ServerResponse>()
  const fake: FakeAuthority = {
    url: '',
    credential,
    calls: 0,
    asked: [],
    answer: () => ({ body: { active: false } }),
    stream: {
      refuse: null,
      log: [],
      oldestSeq: 1,
      resumedFrom: [],
      get open() {
        return streams.size
      },
      revoke(tokenIds, accountId = null) {
        const e = { token_ids: tokenIds, account_id: accountId }
        fake.stream.log.push(e)
        const seq = fake.stream.log.length
        for (const res of streams) res.write(sse(seq, e))
        return seq
      },
      raw(text) {
        for (const res of streams) res.write(text)
      },
      drop() {
        for (const res of streams) res.destroy()
        streams.clear()
      }
    },
    close: async () => {
      fake.stream.drop()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
  const server: Server = createServer(async (req, res) => {
    if (req.method === 'GET' && req.url === '/v1/revocations') {
      if (req.headers.authorization !== `Bearer ${credential}`) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"code":"unauthorized"}')
        return
      }
      if (fake.stream.refuse !== null) {
        res.writeHead(fake.stream.refuse, { 'content-type': 'application/json' }).end('{}')
        return
      }
      const last = req.headers['last-event-id']
      fake.stream.resumedFrom.push(typeof last === 'string' ? last : null)
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'close'
      })
      res.write('retry: 1000\n\n')
      const latest = fake.stream.log.length
      if (typeof last === 'string') {
        const given = Number(last)
        if (given > latest || given < fake.stream.oldestSeq - 1)
          res.write(`event: reset\ndata: ${JSON.stringify({ seq: latest })}\n\n`)
        else for (let seq = given + 1; seq <= latest; seq++) res.write(sse(seq, fake.stream.log[seq - 1]!))
      }
      streams.add(res)
      res.on('close', () => streams.delete(res))
      return
    }
    const body = await readBody(req)
    if (req.method !== 'POST' || req.url !== '/introspect') {
      res.writeHead(404).end()
      return
    }
    if (req.headers.authorization !== `Bearer ${credential}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"code":"unauthorized"}')
      return
    }
    const token = new URLSearchParams(body).get('token') ?? ''
    fake.calls++
    fake.asked.push(token)
    const a = fake.answer(token)
    if (a.delayMs) await new Promise((r) => setTimeout(r, a.delayMs))
    if (res.destroyed) return
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (a.cacheControl !== undefined) headers['cache-control'] = a.cacheControl
    res.writeHead(a.status ?? 200, headers).end(a.text ?? JSON.stringify(a.body ?? { active: false }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return fake
}

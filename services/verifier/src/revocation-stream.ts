import { EventEmitter } from 'node:events'
import { Client } from 'undici'

/** One `event: revocation` of the authority's stream (docs/revocation-stream.md). */
export interface RevocationMessage {
  seq: number
  at: string
  token_ids: string[]
  account_id: string | null
  reason: string
}

/** An SSE message: what a blank line dispatches. */
export interface SseMessage {
  id: string | undefined
  event: string
  data: string
}

/**
 * Server-Sent Events parser (the WHATWG rules the stream needs): lines end in LF, CRLF or CR;
 * `:` starts a comment; `field: value` (one leading space dropped); `data` lines are joined with LF;
 * a blank line dispatches. `onComment` sees comments (heartbeats), `onRetry` the `retry` field.
 */
export class SseParser {
  #buffer = ''
  #pendingCR = false
  #data: string[] = []
  #event = ''
  #id: string | undefined
  constructor(
    private readonly onMessage: (m: SseMessage) => void,
    private readonly onComment: (text: string) => void = () => {}
  ) {}

  push(chunk: string): void {
    let text = chunk
    // a CR at the end of the previous chunk already ended its line: skip the LF of that CRLF
    if (this.#pendingCR && text.startsWith('\n')) text = text.slice(1)
    this.#pendingCR = false
    this.#buffer += text
    let start = 0
    for (let i = 0; i < this.#buffer.length; i++) {
      const c = this.#buffer.charCodeAt(i)
      if (c !== 10 && c !== 13) continue
      this.#line(this.#buffer.slice(start, i))
      if (c === 13) {
        if (i + 1 === this.#buffer.length) this.#pendingCR = true
        else if (this.#buffer.charCodeAt(i + 1) === 10) i++
      }
      start = i + 1
    }
    this.#buffer = this.#buffer.slice(start)
    // a line longer than any event we expect is not this stream
    if (this.#buffer.length > 1 << 20) throw new Error('revocation stream: line too long')
  }

  #line(line: string): void {
    if (line === '') {
      if (this.#data.length > 0 || this.#event !== '') {
        this.onMessage({ id: this.#id, event: this.#event || 'message', data: this.#data.join('\n') })
      }
      this.#data = []
      this.#event = ''
      this.#id = undefined
      return
    }
    if (line.startsWith(':')) {
      this.onComment(line.slice(1).trimStart())
      return
    }
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'data') this.#data.push(value)
    else if (field === 'event') this.#event = value
    else if (field === 'id' && !value.includes('\0')) this.#id = value
    // `retry` and unknown fields: ignored (the client keeps its own backoff)
  }
}

export type StreamState = 'connecting' | 'live' | 'down' | 'closed'

export interface RevocationStreamOptions {
  authorityUrl: string
  credential: string
  connectTimeoutMs: number
  /** no byte (event or heartbeat) for this long: the stream is dead, reconnect */
  idleTimeoutMs: number
  reconnect: { minMs: number; maxMs: number }
}

/**
 * Follows GET /v1/revocations: reconnects with exponential backoff and full jitter, resuming with
 * `Last-Event-ID`. Emits `state` (StreamState), `revocation` (RevocationMessage), `reset` ({seq}),
 * `open` ({resumed: boolean}) and `failure` ({reason}). The caller owns what the events mean.
 */
export class RevocationStream extends EventEmitter {
  state: StreamState = 'connecting'
  /** the last seq received (an event's id or a reset's seq); undefined until the first */
  lastEventId: string | undefined
  /** connections opened so far */
  connects = 0
  readonly #o: RevocationStreamOptions
  readonly #origin: string
  readonly #path: string
  #client: Client | undefined
  #abort: AbortController | undefined
  #timer: NodeJS.Timeout | undefined
  #idle: NodeJS.Timeout | undefined
  #attempt = 0
  #closed = false

  constructor(o: RevocationStreamOptions) {
    super()
    this.#o = o
    const url = new URL(o.authorityUrl)
    this.#origin = url.origin
    this.#path = `${url.pathname.replace(/\/$/, '')}/v1/revocations`
  }

  start(): void {
    void this.#run()
  }

  #setState(s: StreamState): void {
    if (this.state === s || this.state === 'closed') return
    this.state = s
    this.emit('state', s)
  }

  #armIdle(): void {
    clearTimeout(this.#idle)
    this.#idle = setTimeout(() => this.#abort?.abort(new Error('no heartbeat')), this.#o.idleTimeoutMs)
    this.#idle.unref()
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      let reason = 'ended'
      try {
        reason = await this.#connectOnce()
      } catch (err) {
        reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message ?? 'error'
      } finally {
        clearTimeout(this.#idle)
      }
      if (this.#closed) break
      this.#setState('down')
      this.emit('failure', { reason })
      // full jitter: a fleet of consumers does not come back in step after an authority restart
      const ceiling = Math.min(this.#o.reconnect.maxMs, this.#o.reconnect.minMs * 2 ** this.#attempt)
      this.#attempt = Math.min(this.#attempt + 1, 30)
      const wait = this.#o.reconnect.minMs / 2 + Math.random() * (ceiling - this.#o.reconnect.minMs / 2)
      await new Promise<void>((resolve) => {
        this.#timer = setTimeout(resolve, wait)
        this.#timer.unref()
      })
    }
  }

  async #connectOnce(): Promise<string> {
    this.#client ??= new Client(this.#origin, {
      connectTimeout: this.#o.connectTimeoutMs,
      headersTimeout: this.#o.connectTimeoutMs,
      // the watchdog below judges silence, not undici
      bodyTimeout: 0
    })
    this.#abort = new AbortController()
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#o.credential}`,
      accept: 'text/event-stream'
    }
    if (this.lastEventId !== undefined) headers['last-event-id'] = this.lastEventId
    const res = await this.#client.request({ method: 'GET', path: this.#path, headers, signal: this.#abort.signal })
    if (res.statusCode !== 200 || !String(res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
      await res.body.dump().catch(() => {})
      return `authority answered ${res.statusCode}`
    }
    this.connects++
    const resumed = this.lastEventId !== undefined
    this.#armIdle()
    const parser = new SseParser((m) => this.#message(m))
    // `open` before `live`: a fresh (not resumed) stream lets the owner drop what it cached blind
    this.emit('open', { resumed })
    this.#setState('live')
    res.body.setEncoding('utf8')
    let healthy = false
    for await (const chunk of res.body as AsyncIterable<string>) {
      this.#armIdle()
      parser.push(chunk)
      if (!healthy) {
        // a connection that delivered something counts as a success: the backoff starts over
        healthy = true
        this.#attempt = 0
      }
    }
    return 'stream ended'
  }

  #message(m: SseMessage): void {
    if (m.event === 'revocation') {
      const data = JSON.parse(m.data) as RevocationMessage
      if (!Array.isArray(data.token_ids)) throw new Error('revocation stream: event without token_ids')
      this.emit('revocation', data)
      if (m.id !== undefined) this.lastEventId = m.id
    } else if (m.event === 'reset') {
      const data = JSON.parse(m.data) as { seq?: unknown }
      this.emit('reset', data)
      if (typeof data.seq === 'number' && Number.isSafeInteger(data.seq) && data.seq >= 0)
        this.lastEventId = String(data.seq)
      else this.lastEventId = undefined
    } else if (m.id !== undefined) {
      this.lastEventId = m.id
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#setState('closed')
    clearTimeout(this.#timer)
    clearTimeout(this.#idle)
    this.#abort?.abort()
    await this.#client?.destroy().catch(() => {})
  }
}

import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net'

/**
 * A small fault-injecting TCP proxy on loopback, put between the authority and MySQL or Redis.
 *
 * - `pass()`: bytes flow both ways;
 * - `delay(ms)`: every chunk, both ways, is forwarded `ms` later (order kept; the handshake too);
 * - `cut()`: every open connection is closed (FIN) and new ones are accepted and closed at once;
 * - `reset()`: every open connection is reset (RST) and so are new ones;
 * - `blackhole()`: connections stay open (and new ones are accepted) but nothing is forwarded, as
 *   when packets are dropped on the way.
 * Switching back to `pass()` lets new connections through again; chunks already delayed keep their
 * turn. Nothing is shared: each proxy listens on its own free port.
 */
export type ProxyMode =
  | { kind: 'pass' }
  | { kind: 'delay'; ms: number }
  | { kind: 'cut' }
  | { kind: 'reset' }
  | { kind: 'blackhole' }

interface Link {
  client: Socket
  upstream: Socket
}

/** forwards chunks in order, each no earlier than its due time */
class DelayedPipe {
  readonly #queue: { due: number; chunk: Buffer | null }[] = []
  #timer: NodeJS.Timeout | undefined
  #lastDue = 0

  constructor(
    readonly to: Socket,
    readonly delayOf: () => number
  ) {}

  /** null = end of stream */
  push(chunk: Buffer | null): void {
    const d = this.delayOf()
    if (d <= 0 && this.#queue.length === 0) {
      this.#write(chunk)
      return
    }
    const due = Math.max(this.#lastDue, Date.now() + Math.max(0, d))
    this.#lastDue = due
    this.#queue.push({ due, chunk })
    this.#arm()
  }

  #write(chunk: Buffer | null): void {
    if (this.to.destroyed) return
    if (chunk === null) this.to.end()
    else this.to.write(chunk)
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#queue.length === 0) return
    const wait = Math.max(0, this.#queue[0]!.due - Date.now())
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      const now = Date.now()
      while (this.#queue.length > 0 && this.#queue[0]!.due <= now) this.#write(this.#queue.shift()!.chunk)
      this.#arm()
    }, wait)
  }

  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#queue.length = 0
  }
}

export class FaultProxy {
  #mode: ProxyMode = { kind: 'pass' }
  readonly #links = new Set<Link>()
  readonly #server: Server
  readonly target: { host: string; port: number }
  /** connections accepted, and of them refused (cut/reset) */
  readonly counts = { accepted: 0, refused: 0 }

  private constructor(server: Server, target: { host: string; port: number }) {
    this.#server = server
    this.target = target
  }

  static async start(target: { host: string; port: number }): Promise<FaultProxy> {
    const server = createServer()
    const proxy = new FaultProxy(server, target)
    server.on('connection', (socket) => proxy.#accept(socket))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    return proxy
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port
  }

  get mode(): ProxyMode {
    return this.#mode
  }

  /** open connections */
  get connections(): number {
    return this.#links.size
  }

  /** the same URL with host:port replaced by this proxy's */
  url(of: string): string {
    const u = new URL(of)
    u.hostname = '127.0.0.1'
    u.port = String(this.port)
    return u.toString()
  }

  pass(): void {
    this.#mode = { kind: 'pass' }
  }

  delay(ms: number): void {
    this.#mode = { kind: 'delay', ms }
  }

  blackhole(): void {
    this.#mode = { kind: 'blackhole' }
  }

  /** closes every open connection (FIN) and refuses new ones until `pass()` */
  cut(): void {
    this.#mode = { kind: 'cut' }
    for (const link of [...this.#links]) this.#drop(link, false)
  }

  /** resets every open connection (RST) and new ones until `pass()` */
  reset(): void {
    this.#mode = { kind: 'reset' }
    for (const link of [...this.#links]) this.#drop(link, true)
  }

  async close(): Promise<void> {
    for (const link of [...this.#links]) this.#drop(link, false)
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  #delayMs(): number {
    return this.#mode.kind === 'delay' ? this.#mode.ms : 0
  }

  #drop(link: Link, rst: boolean): void {
    this.#links.delete(link)
    for (const s of [link.client, link.upstream]) {
      if (s.destroyed) continue
      if (rst) s.resetAndDestroy()
      else s.destroy()
    }
  }

  #accept(client: Socket): void {
    this.counts.accepted++
    const kind = this.#mode.kind
    if (kind === 'cut' || kind === 'reset') {
      this.counts.refused++
      if (kind === 'reset') client.resetAndDestroy()
      else client.destroy()
      return
    }
    client.setNoDelay(true)
    const upstream = connect({ host: this.target.host, port: this.target.port })
    upstream.setNoDelay(true)
    const link: Link = { client, upstream }
    this.#links.add(link)
    const toUpstream = new DelayedPipe(upstream, () => this.#delayMs())
    const toClient = new DelayedPipe(client, () => this.#delayMs())
    const forward = (pipe: DelayedPipe) => (chunk: Buffer) => {
      if (this.#mode.kind === 'blackhole') return
      pipe.push(chunk)
    }
    client.on('data', forward(toUpstream))
    upstream.on('data', forward(toClient))
    client.on('end', () => toUpstream.push(null))
    upstream.on('end', () => toClient.push(null))
    const done = () => {
      toUpstream.clear()
      toClient.clear()
      this.#drop(link, false)
    }
    client.on('close', done)
    upstream.on('close', done)
    client.on('error', () => undefined)
    upstream.on('error', () => undefined)
  }
}

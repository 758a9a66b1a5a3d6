import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A free loopback port (the kernel picks one; a race with another process is unlikely). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/**
 * PING over a raw socket: true when a server on `port` answers within `ms`, with +PONG or, when
 * the default user is switched off (ACL), with -NOAUTH.
 */
function pong(port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port })
    let buf = ''
    const finish = (ok: boolean) => {
      clearTimeout(timer)
      s.destroy()
      resolve(ok)
    }
    const timer = setTimeout(() => finish(false), ms)
    s.on('connect', () => s.write('PING\r\n'))
    s.on('data', (d) => {
      buf += d.toString('latin1')
      if (buf.includes('\r\n')) finish(buf.startsWith('+PONG') || buf.startsWith('-NOAUTH'))
    })
    s.on('error', () => finish(false))
  })
}

const live = new Set<ChildProcess>()
// a test that dies half-way must not leave redis-server children behind
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

/**
 * A `redis-server` of our own on a free loopback port, no persistence, that a test may SIGKILL
 * and start again (empty), or pause (SIGSTOP) and resume with its data (SIGCONT). Nothing shared
 * is touched.
 */
export class PrivateRedis {
  #child: ChildProcess | undefined
  #paused = false
  readonly dir: string

  private constructor(
    readonly port: number,
    readonly bin: string,
    /** more `redis-server` arguments: TLS ports and files, ACL users */
    readonly extraArgs: string[] = []
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'ta-redis-'))
  }

  static async start(
    bin = process.env.REDIS_SERVER_BIN ?? 'redis-server',
    extraArgs: string[] = []
  ): Promise<PrivateRedis> {
    const r = new PrivateRedis(await freePort(), bin, extraArgs)
    await r.restart()
    return r
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  get running(): boolean {
    return this.#child !== undefined
  }

  get pid(): number | undefined {
    return this.#child?.pid
  }

  /** starts the server (again, on the same port, empty) and waits until it answers PING */
  async restart(timeoutMs = 5000): Promise<void> {
    if (this.#child !== undefined) throw new Error('redis-server is already running')
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      this.dir,
      '--loglevel',
      'warning',
      ...this.extraArgs
    ]
    const child = spawn(this.bin, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    // redis-server logs to stdout: keep the tail of both for the error below
    const keep = (d: Buffer) => (stderr = (stderr + String(d)).slice(-4096))
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    live.add(child)
    this.#child = child
    this.#paused = false
    child.once('exit', () => {
      live.delete(child)
      if (this.#child === child) this.#child = undefined
    })
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`redis-server exited: ${stderr}`)
      if (await pong(this.port, 200)) return
      await new Promise((r) => setTimeout(r, 25))
    }
    throw new Error(`redis-server did not answer on ${this.port} within ${timeoutMs} ms: ${stderr}`)
  }

  /** SIGKILL: every connection drops, every key is lost */
  async kill(): Promise<void> {
    const child = this.#child
    if (child === undefined) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    if (this.#paused) child.kill('SIGCONT')
    child.kill('SIGKILL')
    await exited
  }

  /** SIGSTOP: connections stay open, nothing is answered; the data stays */
  pause(): void {
    if (this.#child === undefined) throw new Error('redis-server is not running')
    this.#child.kill('SIGSTOP')
    this.#paused = true
  }

  /** SIGCONT: answers again, with the data it had */
  resume(): void {
    if (this.#child === undefined) throw new Error('redis-server is not running')
    this.#child.kill('SIGCONT')
    this.#paused = false
  }

  async stop(): Promise<void> {
    await this.kill()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { FromChild, LoadJob, LoadResult, ToChild } from './load-protocol.js'

/**
 * Drives the load-generator child (load-child.ts). autocannon runs in its own process, so on this
 * 2-core machine the server under test and the client each get a core (MySQL and Redis, when
 * used, share them).
 */
export class LoadGenerator {
  readonly #child: ChildProcess
  #next = 1
  readonly #pending = new Map<number, { resolve: (r: LoadResult) => void; reject: (e: Error) => void }>()

  private constructor(child: ChildProcess) {
    this.#child = child
    child.on('message', (msg: FromChild) => {
      if (msg.type === 'result' || msg.type === 'error') {
        const p = this.#pending.get(msg.id)
        this.#pending.delete(msg.id)
        if (msg.type === 'result') p?.resolve(msg.result)
        else p?.reject(new Error(msg.message))
      }
    })
    child.on('exit', (code) => {
      for (const p of this.#pending.values()) p.reject(new Error(`load generator exited (${code})`))
      this.#pending.clear()
    })
  }

  static async start(): Promise<LoadGenerator> {
    const file = fileURLToPath(new URL('./load-child.ts', import.meta.url))
    // same loader flags as this process (tsx), but never the profiler's
    const execArgv = process.execArgv.filter(
      (a) => !a.startsWith('--cpu-prof') && !a.startsWith('--heap-prof') && !a.startsWith('--inspect')
    )
    const child = fork(file, [], {
      execArgv,
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('load generator did not start within 30 s')), 30_000)
      child.once('message', (msg: FromChild) => {
        clearTimeout(timer)
        if (msg.type === 'ready') resolve()
        else reject(new Error('load generator: unexpected first message'))
      })
      child.once('error', (err) => {
        clearTimeout(timer)
        reject(err)
      })
    })
    return new LoadGenerator(child)
  }

  get pid(): number | undefined {
    return this.#child.pid
  }

  run(job: LoadJob): Promise<LoadResult> {
    if (job.requests.length === 0) return Promise.reject(new Error(`load job ${job.title}: no requests`))
    const id = this.#next++
    return new Promise<LoadResult>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      this.#child.send({ type: 'job', id, job } satisfies ToChild)
    })
  }

  async close(): Promise<void> {
    if (this.#child.exitCode !== null) return
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()))
    this.#child.send({ type: 'exit' } satisfies ToChild)
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }
}

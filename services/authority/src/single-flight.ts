/** Concurrent callers for one key share one in-flight promise (one database read per token). */
export class SingleFlight<T> {
  readonly #inflight = new Map<string, Promise<T>>()

  run(key: string, fn: () => Promise<T>): Promise<T> {
    const running = this.#inflight.get(key)
    if (running !== undefined) return running
    const p = fn().finally(() => {
      if (this.#inflight.get(key) === p) this.#inflight.delete(key)
    })
    this.#inflight.set(key, p)
    return p
  }

  /** Later callers start afresh; callers already waiting keep the running promise. */
  forget(key: string): void {
    this.#inflight.delete(key)
  }

  get size(): number {
    return this.#inflight.size
  }
}

/** Rejects after `ms` with the given error; the slow operation is left to settle on its own. */
export function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms)
    timer.unref()
  })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}

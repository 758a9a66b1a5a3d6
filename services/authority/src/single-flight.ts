/**
 * Concurrent callers for one key share one in-flight promise (one database read per token).
 * A settled success is kept `graceMs` more for callers that ask for it (`acceptSettled`): those
 * whose cache lookup failed or timed out while the read ran (Redis under a burst), so they do not
 * start a second read. Callers with a clean cache miss never get a settled result.
 */
export class SingleFlight<T> {
  readonly #inflight = new Map<string, Promise<T>>()
  readonly #settled = new Map<string, Promise<T>>()

  constructor(readonly graceMs = 0) {}

  run(key: string, fn: () => Promise<T>, acceptSettled = false): Promise<T> {
    const running = this.#inflight.get(key) ?? (acceptSettled ? this.#settled.get(key) : undefined)
    if (running !== undefined) return running
    const p = fn()
    this.#inflight.set(key, p)
    p.then(
      () => {
        if (this.#inflight.get(key) !== p) return
        this.#inflight.delete(key)
        if (this.graceMs <= 0) return
        this.#settled.set(key, p)
        setTimeout(() => {
          if (this.#settled.get(key) === p) this.#settled.delete(key)
        }, this.graceMs).unref()
      },
      () => {
        if (this.#inflight.get(key) === p) this.#inflight.delete(key)
      }
    )
    return p
  }

  /** Later callers start afresh; callers already waiting keep the running promise. */
  forget(key: string): void {
    this.#inflight.delete(key)
    this.#settled.delete(key)
  }

  /** forget, for every key */
  forgetAll(): void {
    this.#inflight.clear()
    this.#settled.clear()
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

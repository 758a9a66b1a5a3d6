/**
 * Concurrent callers for one key share one in-flight promise (one database read per token). A
 * caller may be refused the running flight (`mayJoin` false): it starts a new one, which later
 * callers join. Nothing is kept once a flight settles.
 */
export class SingleFlight<T> {
  readonly #inflight = new Map<string, Promise<T>>()

  /** `mayJoin`: asked before joining a running flight; false starts a new one (which later callers join) */
  run(key: string, fn: () => Promise<T>, mayJoin?: () => boolean): Promise<T> {
    const running = this.#inflight.get(key)
    if (running !== undefined && (mayJoin === undefined || mayJoin())) return running
    const p = fn()
    this.#inflight.set(key, p)
    const end = () => {
      if (this.#inflight.get(key) === p) this.#inflight.delete(key)
    }
    p.then(end, end)
    return p
  }

  /** Later callers start afresh; callers already waiting keep the running promise. */
  forget(key: string): void {
    this.#inflight.delete(key)
  }

  /** forget, for every key */
  forgetAll(): void {
    this.#inflight.clear()
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

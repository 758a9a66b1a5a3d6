import type { FastifyBaseLogger } from 'fastify'
import type { Kysely } from 'kysely'
import type { Clock } from '../clock.js'
import type { QueryGuard } from '../db/fault-policy.js'
import type { Database } from '../db/tables.js'
import type { LastUse } from './token.js'
import { writeLastUses } from './token.repository.js'

/**
 * Last use of each token, recorded off the hot path: a use is a map write (the latest per token
 * wins), and every LAST_USED_FLUSH_SECONDS the map is written in batches (one UPDATE per
 * WRITE_BATCH tokens), so a token costs at most one write per interval whatever its traffic, and
 * an introspection never waits for the database. The map is bounded: past `maxPending` tokens,
 * uses of tokens not already in it are dropped (and counted) until the next flush. A graceful
 * shutdown flushes; a crash loses at most one interval.
 */

/** column widths (migration 0006): longer values are cut, never refused */
export const LAST_USED_ADDRESS_MAX = 64
export const LAST_USED_USER_AGENT_MAX = 256

/** tokens per UPDATE statement (4 columns × 3 parameters each + 1 per token: well inside both databases' limits) */
const WRITE_BATCH = 100

export interface LastUsedCounters {
  /** tokens written */
  written: { inc(n?: number): void }
  /** UPDATE statements issued */
  batches: { inc(n?: number): void }
  /** uses not kept because the map was full */
  dropped: { inc(n?: number): void }
  /** flushes that failed (the uses are kept for the next one, within the bound) */
  failed: { inc(n?: number): void }
}

export interface LastUsedOptions {
  db: Kysely<Database>
  guard: QueryGuard
  clock: Clock
  log: Pick<FastifyBaseLogger, 'warn'>
  /** 0 = recording off (record() does nothing) */
  intervalMs: number
  maxPending: number
  counters: LastUsedCounters
}

export class LastUsedRecorder {
  readonly #o: LastUsedOptions
  #pending = new Map<string, LastUse>()
  #timer: NodeJS.Timeout | undefined
  #flushing: Promise<void> | undefined
  #closed = false

  constructor(opts: LastUsedOptions) {
    this.#o = opts
    if (opts.intervalMs > 0) {
      this.#timer = setInterval(() => void this.flush(), opts.intervalMs)
      this.#timer.unref()
    }
  }

  get enabled(): boolean {
    return this.#o.intervalMs > 0 && !this.#closed
  }

  /** tokens waiting for the next write */
  get pendingCount(): number {
    return this.#pending.size
  }

  /**
   * A use of an active token (the caller has verified it). No I/O: the latest use per token is
   * kept until the next flush. `address` and `userAgent` are cut to their column widths.
   */
  record(
    tokenId: string,
    address: string | null | undefined,
    userAgent: string | null | undefined,
    caller: string | null
  ): void {
    if (!this.enabled) return
    const pending = this.#pending
    if (pending.size >= this.#o.maxPending && !pending.has(tokenId)) {
      this.#o.counters.dropped.inc()
      return
    }
    pending.set(tokenId, {
      at: this.#o.clock.now(),
      address: address ? address.slice(0, LAST_USED_ADDRESS_MAX) : null,
      userAgent: userAgent ? userAgent.slice(0, LAST_USED_USER_AGENT_MAX) : null,
      caller
    })
  }

  /** Writes what is pending (one flush at a time; a call during one waits for it and then flushes). */
  async flush(): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing
    if (this.#pending.size === 0) return
    const batch = this.#pending
    this.#pending = new Map()
    this.#flushing = this.#write(batch).finally(() => {
      this.#flushing = undefined
    })
    await this.#flushing
  }

  async #write(batch: Map<string, LastUse>): Promise<void> {
    const entries = [...batch]
    for (let i = 0; i < entries.length; i += WRITE_BATCH) {
      const chunk = entries.slice(i, i + WRITE_BATCH)
      try {
        await this.#o.guard(writeLastUses(this.#o.db, chunk))
        this.#o.counters.batches.inc()
        this.#o.counters.written.inc(chunk.length)
      } catch (cause) {
        this.#o.counters.failed.inc()
        this.#o.log.warn(
          { tokens: entries.length - i, msg_: (cause as Error).message },
          'last-use write failed; kept for the next one'
        )
        // keep what was not written for the next flush, unless newer uses replaced it meanwhile
        for (const [id, use] of entries.slice(i)) {
          if (this.#pending.has(id)) continue
          if (this.#pending.size >= this.#o.maxPending) {
            this.#o.counters.dropped.inc()
            continue
          }
          this.#pending.set(id, use)
        }
        return
      }
    }
  }

  /** Stops the timer and writes what is pending (graceful shutdown: before the database closes). */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    await this.flush().catch(() => {})
    this.#closed = true
  }
}

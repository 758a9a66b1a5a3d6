import { EventEmitter } from 'node:events'
import type { FastifyBaseLogger } from 'fastify'
import type { Kysely } from 'kysely'
import type { Clock } from '../clock.js'
import type { QueryGuard } from '../db/fault-policy.js'
import type { Database } from '../db/tables.js'
import { lastRevocationSeqBefore, revocationsAfter, type RevocationEvent } from './revocation.repository.js'

export interface RevocationFollowerOptions {
  db: Kysely<Database>
  guard: QueryGuard
  clock: Clock
  log: FastifyBaseLogger
  /** how often the log is read when nothing nudges it */
  pollMs: number
  /**
   * how far back a new follower starts (ms): events of the last cache TTL are applied again, so a
   * change committed by a process that died before it invalidated anything still reaches the cache
   */
  replayMs: number
  /**
   * how long a hole in the sequence is waited for before it is skipped (ms): a transaction that
   * took its seq and had not committed yet, or one that rolled back and never will
   */
  gapTimeoutMs: number
  /** drops what this process (and the shared cache) keeps of the tokens an event names */
  apply(event: RevocationEvent): Promise<void>
}

const BATCH = 500

/**
 * Follows the revocation log (docs/revocation-stream.md). Every event is applied once, as soon as
 * it is read (invalidating early is always safe); `cursor` is the highest seq below which every
 * event was read or its hole timed out, and events are emitted to the stream in seq order up to
 * it, so a consumer resuming after its last id misses nothing.
 */
export class RevocationFollower {
  readonly #o: RevocationFollowerOptions
  readonly #emitter = new EventEmitter()
  /** read (and applied) above the cursor, waiting for a hole below them to close, with when each was read */
  readonly #pending = new Map<number, { event: RevocationEvent; readAt: number }>()
  #cursor = 0
  #started = false
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | null = null
  #again = false
  #closed = false

  constructor(o: RevocationFollowerOptions) {
    this.#o = o
    this.#emitter.setMaxListeners(0)
  }

  /** the stream's position: every event at or below it has been emitted */
  get cursor(): number {
    return this.#cursor
  }

  async start(): Promise<void> {
    const from = await this.#o.guard(lastRevocationSeqBefore(this.#o.db, this.#o.clock.now() - this.#o.replayMs))
    this.#cursor = from
    this.#started = true
    await this.poll()
    this.#timer = setInterval(() => void this.poll(), this.#o.pollMs)
    this.#timer.unref()
  }

  /** read the log now (a local commit, or another replica's invalidation message) */
  nudge(): void {
    if (this.#started && !this.#closed) void this.poll()
  }

  /** events as they become part of the ordered stream */
  onEvent(listener: (event: RevocationEvent) => void): () => void {
    this.#emitter.on('event', listener)
    return () => this.#emitter.off('event', listener)
  }

  /** One read at a time; a nudge during a read asks for another right after it. */
  poll(): Promise<void> {
    if (this.#running !== null) {
      this.#again = true
      return this.#running
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false
          await this.#readOnce()
        } while (this.#again && !this.#closed)
      } catch (err) {
        this.#o.log.warn({ msg_: (err as Error).message }, 'revocation log: read failed; will retry')
      } finally {
        this.#running = null
      }
    })()
    return this.#running
  }

  async #readOnce(): Promise<void> {
    // Always from the cursor: a lower seq can commit after a higher one was read (MySQL hands out
    // AUTO_INCREMENT values before commit), and it must still be read. What is already pending
    // above the cursor was applied: skip it.
    const events = await this.#o.guard(revocationsAfter(this.#o.db, this.#cursor, BATCH + this.#pending.size))
    const now = this.#o.clock.now()
    for (const event of events) {
      if (this.#pending.has(event.seq)) continue
      await this.#o.apply(event)
      this.#pending.set(event.seq, { event, readAt: now })
    }
    this.#advance()
    if (events.length === BATCH + this.#pending.size) this.#again = true
  }

  #advance(): void {
    for (;;) {
      const next = this.#pending.get(this.#cursor + 1)
      if (next !== undefined) {
        this.#pending.delete(next.event.seq)
        this.#cursor = next.event.seq
        this.#emitter.emit('event', next.event)
        continue
      }
      if (this.#pending.size === 0) return
      // A hole: wait for it, but not for ever (a rolled-back transaction's seq never appears). Its
      // deadline counts from when the first event above it was read, so several holes cost one
      // wait, not one each.
      const above = Math.min(...this.#pending.keys())
      if (this.#o.clock.now() - this.#pending.get(above)!.readAt < this.#o.gapTimeoutMs) return
      this.#cursor = above - 1
    }
  }

  /** Waits (bounded) until the cursor reaches `seq`: a consumer resuming from another replica. */
  async reach(seq: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    while (this.#cursor < seq && Date.now() < deadline && !this.#closed) {
      await this.poll()
      if (this.#cursor < seq) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    return this.#cursor >= seq
  }

  async close(): Promise<void> {
    this.#closed = true
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#emitter.removeAllListeners()
    await this.#running
  }
}

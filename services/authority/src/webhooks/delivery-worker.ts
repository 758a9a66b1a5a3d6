import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { Kysely } from 'kysely'
import type { Clock } from '../clock.js'
import type { Database } from '../db/tables.js'
import type { SecretBox } from './secret-box.js'
import { sendWebhook, type SendOptions, type SendResult } from './webhook-sender.js'
import {
  claimDelivery,
  dueDeliveryIds,
  endpointsWithDueDeliveries,
  finishAttempt,
  loadClaimed
} from './webhook.repository.js'

export interface RetryPolicy {
  /** the first retry waits up to this */
  baseMs: number
  /** no retry waits longer than this */
  maxDelayMs: number
  /** after this long since the event, the delivery is marked failed */
  retryForMs: number
}

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * after the n-th failed attempt wait a uniform random time in [0, min(max, base·2^(n-1))]. Spreads
 * retries of many deliveries to one recovering receiver instead of synchronising them.
 */
export function retryDelayMs(policy: RetryPolicy, attempts: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseMs * 2 ** Math.min(attempts - 1, 30))
  return Math.floor(random() * ceiling)
}

export interface DeliveryWorkerOptions {
  db: Kysely<Database>
  clock: Clock
  log: FastifyBaseLogger
  box: SecretBox
  send: SendOptions
  retry: RetryPolicy
  pollMs: number
  /** deliveries in flight at once in this process */
  concurrency: number
  /** of which to one endpoint at most (a slow or dead receiver cannot take every slot) */
  perEndpoint: number
  /** observes each attempt (metrics) */
  onAttempt?: (r: SendResult) => void
}

/**
 * Sends pending deliveries. Runs in every authority process: a delivery is claimed by a conditional
 * UPDATE (pending, due, lease unset or run out) that one worker wins, and held under a lease longer
 * than an attempt can take. At-least-once: a worker that dies after the receiver answered but before
 * recording it leaves the lease to run out, and another worker sends again with the same
 * `Webhook-Id` (receivers deduplicate on it).
 */
export class DeliveryWorker {
  readonly id = `w-${randomUUID()}`
  readonly #o: DeliveryWorkerOptions
  readonly #leaseMs: number
  readonly #inFlight = new Set<Promise<void>>()
  /** in-flight attempts per endpoint */
  readonly #busy = new Map<string, number>()
  /**
   * deliveries this worker is sending now: never claimed again by it, even when their lease has run
   * out by the clock (a clock that jumps ahead, or an attempt slower than the lease)
   */
  readonly #sending = new Set<string>()
  #timer: NodeJS.Timeout | null = null
  #ticking: Promise<void> | null = null
  #again = false
  #closed = false

  constructor(opts: DeliveryWorkerOptions) {
    this.#o = opts
    // an attempt ends within the total timeout; the lease leaves room to record its outcome
    this.#leaseMs = opts.send.timeoutMs * 2 + 5000
  }

  start(): void {
    this.#schedule(0)
  }

  /** Look now (a local change just committed an event). */
  nudge(): void {
    if (this.#closed) return
    if (this.#ticking) this.#again = true
    else this.#schedule(0)
  }

  #schedule(ms: number): void {
    if (this.#closed) return
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.#ticking = this.tick()
        .then(() => undefined)
        .catch((e: Error) => this.#o.log.warn({ msg_: e.message }, 'webhook delivery poll failed; will retry'))
        .finally(() => {
          this.#ticking = null
          const again = this.#again
          this.#again = false
          this.#schedule(again ? 0 : this.#o.pollMs)
        })
    }, ms)
    this.#timer.unref()
  }

  /**
   * One pass: claim what is due (up to the free concurrency, and at most `perEndpoint` per
   * endpoint, endpoints that waited longest first) and start sending it.
   */
  async tick(): Promise<number> {
    const free = this.#o.concurrency - this.#inFlight.size
    if (free <= 0) return 0
    const now = this.#o.clock.now()
    const endpoints = await endpointsWithDueDeliveries(this.#o.db, now, 100)
    let started = 0
    for (const endpointId of endpoints) {
      const room = Math.min(free - started, this.#o.perEndpoint - (this.#busy.get(endpointId) ?? 0))
      if (room <= 0) continue
      const ids = await dueDeliveryIds(this.#o.db, endpointId, now, room)
      for (const id of ids) {
        if (this.#closed) return started
        if (this.#sending.has(id)) continue
        if (!(await claimDelivery(this.#o.db, id, this.id, now, now + this.#leaseMs))) continue
        started++
        this.#sending.add(id)
        this.#busy.set(endpointId, (this.#busy.get(endpointId) ?? 0) + 1)
        const p: Promise<void> = this.#attempt(id)
          .catch((e: Error) => this.#o.log.warn({ msg_: e.message, delivery: id }, 'webhook delivery attempt failed'))
          .finally(() => {
            this.#inFlight.delete(p)
            this.#sending.delete(id)
            const n = (this.#busy.get(endpointId) ?? 1) - 1
            if (n <= 0) this.#busy.delete(endpointId)
            else this.#busy.set(endpointId, n)
            // a slot is free (for this endpoint too): look again at once
            this.nudge()
          })
        this.#inFlight.add(p)
      }
      if (started >= free) break
    }
    return started
  }

  async #attempt(id: string): Promise<void> {
    const claimed = await loadClaimed(this.#o.db, id)
    if (claimed === undefined) return
    const { delivery, event, endpoint } = claimed
    const body = JSON.stringify({
      id: event.id,
      type: event.type,
      created_at: new Date(Number(event.created_at)).toISOString(),
      data: JSON.parse(event.payload) as unknown
    })
    const secret = this.#o.box.open(endpoint.secret_sealed, endpoint.id)
    const result = await sendWebhook(
      endpoint.url,
      secret,
      { id: event.id, type: event.type, body, timestamp: Math.floor(this.#o.clock.now() / 1000) },
      this.#o.send
    )
    this.#o.onAttempt?.(result)
    const now = this.#o.clock.now()
    const attempts = delivery.attempts + 1
    const deadline = Number(delivery.created_at) + this.#o.retry.retryForMs
    const status = result.ok ? 'delivered' : now >= deadline ? 'failed' : 'pending'
    const next = status === 'pending' ? Math.min(now + retryDelayMs(this.#o.retry, attempts), deadline) : now
    const recorded = await finishAttempt(this.#o.db, id, this.id, {
      status,
      attempts,
      next_attempt_at: next,
      last_http_status: result.status,
      last_error: result.error,
      last_latency_ms: result.latencyMs,
      delivered_at: result.ok ? now : null,
      updated_at: now
    })
    if (!recorded) this.#o.log.warn({ delivery: id }, 'webhook delivery lease ran out before its outcome was recorded')
    if (status === 'failed') {
      this.#o.log.warn(
        { delivery: id, endpoint: endpoint.id, event: event.id, attempts },
        'webhook delivery failed for good'
      )
    }
  }

  /** Stops polling and waits for the attempts in flight. */
  async close(): Promise<void> {
    this.#closed = true
    if (this.#timer) clearTimeout(this.#timer)
    await this.#ticking
    await Promise.all([...this.#inFlight])
  }
}

import type { FastifyBaseLogger } from 'fastify'
import type { Kysely } from 'kysely'
import type { Clock } from '../clock.js'
import type { Database } from '../db/tables.js'
import { recordEvent, tokenFacts } from './events.js'
import { claimNotice, tokensWithoutNotice, type NoticeCandidate } from './webhook.repository.js'

const DAY_MS = 86_400_000

/** The notices before expiry, smallest first; a token gets the smallest one whose window it is in. */
export const EXPIRING_NOTICES = [
  { notice: 'expiring:1d', days: 1 },
  { notice: 'expiring:7d', days: 7 },
  { notice: 'expiring:30d', days: 30 }
] as const

/**
 * Given expired tokens, the time each was last used (unix ms; tokens/last-used.ts writes it behind),
 * for the `used_in_last_7_days` field of `token.expired`. Without it (none given) that field is
 * null: "not known".
 */
export type LastUsedLookup = (db: Kysely<Database>, tokenIds: readonly string[]) => Promise<Map<string, number>>

export interface ExpiryNoticesOptions {
  db: Kysely<Database>
  mysql: boolean
  clock: Clock
  log: FastifyBaseLogger
  intervalMs: number
  /** how far back an expiry still gets its `token.expired` (a scheduler that was off longer skips older ones) */
  expiredLookbackMs: number
  lastUsed?: LastUsedLookup | undefined
  /** after a run that recorded events (the delivery worker looks at once) */
  onEvents?: () => void
}

/**
 * Emits `token.expiring` (30, 7 and 1 day(s) before) and `token.expired`, exactly once per token and
 * notice across replicas and restarts: the event is recorded in the same transaction as a
 * `token_notices` row whose primary key (token, notice) only one replica can insert. Runs in every
 * process; an extra replica only costs a query per interval.
 */
export class ExpiryNotices {
  readonly #o: ExpiryNoticesOptions
  #timer: NodeJS.Timeout | null = null
  #running: Promise<number> | null = null

  constructor(opts: ExpiryNoticesOptions) {
    this.#o = opts
  }

  start(): void {
    this.#timer = setInterval(() => {
      if (this.#running) return
      void this.runOnce().catch((e: Error) =>
        this.#o.log.warn({ msg_: e.message }, 'expiry notices failed; will retry')
      )
    }, this.#o.intervalMs)
    this.#timer.unref()
  }

  /** One pass; returns how many events it recorded. */
  runOnce(): Promise<number> {
    if (this.#running) return this.#running
    this.#running = this.#run().finally(() => {
      this.#running = null
    })
    return this.#running
  }

  async #run(): Promise<number> {
    const now = this.#o.clock.now()
    let recorded = 0
    let lower = now
    for (const { notice, days } of EXPIRING_NOTICES) {
      const upper = now + days * DAY_MS
      recorded += await this.#emit(notice, lower, upper, now, async (t) => ({
        ...tokenFacts(toToken(t)),
        notice: `${days}d`,
        days_left: Math.max(0, Math.round(((t.expires_at - now) / DAY_MS) * 10) / 10)
      }))
      lower = upper
    }
    recorded += await this.#emit('expired', now - this.#o.expiredLookbackMs, now, now, async (t, batch) => {
      const used = batch.lastUsed?.get(t.id)
      return {
        ...tokenFacts(toToken(t)),
        used_in_last_7_days: batch.lastUsed === null ? null : used !== undefined && used >= now - 7 * DAY_MS
      }
    })
    if (recorded > 0) {
      this.#o.log.info({ events: recorded }, 'token expiry notices recorded')
      this.#o.onEvents?.()
    }
    return recorded
  }

  async #emit(
    notice: string,
    from: number,
    to: number,
    now: number,
    payload: (t: NoticeCandidate, batch: { lastUsed: Map<string, number> | null }) => Promise<Record<string, unknown>>
  ): Promise<number> {
    const type = notice === 'expired' ? 'token.expired' : 'token.expiring'
    let recorded = 0
    // bounded per run: a backlog drains over the next runs
    for (let round = 0; round < 20; round++) {
      const batch = await tokensWithoutNotice(this.#o.db, notice, from, to, 200)
      if (batch.length === 0) break
      const lastUsed =
        notice === 'expired' && this.#o.lastUsed !== undefined
          ? await this.#o.lastUsed(
              this.#o.db,
              batch.map((t) => t.id)
            )
          : null
      for (const t of batch) {
        const data = await payload(t, { lastUsed })
        const won = await this.#o.db.transaction().execute(async (trx) => {
          if (!(await claimNotice(trx, this.#o.mysql, t.id, notice, now))) return false
          await recordEvent(trx, type, data, now)
          return true
        })
        if (won) recorded++
      }
      if (batch.length < 200) break
    }
    return recorded
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer)
    await this.#running?.catch(() => undefined)
  }
}

function toToken(t: NoticeCandidate) {
  return { id: t.id, accountId: t.account_id, kind: t.kind, name: t.name, expiresAt: t.expires_at }
}

import { sql, type Kysely } from 'kysely'
import type { Database, RevocationEventRow } from '../db/tables.js'

/** A change that denies access, as the log and the stream carry it. */
export interface RevocationEvent {
  seq: number
  /** unix ms */
  at: number
  tokenIds: string[]
  accountId: string | null
  reason: string
}

function toEvent(row: RevocationEventRow): RevocationEvent {
  return {
    seq: Number(row.seq),
    at: Number(row.at),
    tokenIds: JSON.parse(row.token_ids) as string[],
    accountId: row.account_id,
    reason: row.reason
  }
}

/** Appends an event; call it inside the transaction of the change it records (`db` = the transaction). */
export async function appendRevocation(
  db: Kysely<Database>,
  e: { at: number; tokenIds: readonly string[]; accountId?: string | null; reason: string }
): Promise<void> {
  if (e.tokenIds.length === 0 && (e.accountId ?? null) === null) return
  // a revoke-all of a big account is several events (a TEXT column holds 64 KB: ~2,600 ids)
  const chunks: (readonly string[])[] = []
  for (let i = 0; i < e.tokenIds.length; i += EVENT_MAX_IDS) chunks.push(e.tokenIds.slice(i, i + EVENT_MAX_IDS))
  if (chunks.length === 0) chunks.push([])
  for (const ids of chunks) {
    await db
      .insertInto('revocation_events')
      .values({
        at: e.at,
        token_ids: JSON.stringify(ids),
        account_id: e.accountId ?? null,
        reason: e.reason.slice(0, 32)
      })
      .execute()
  }
}

/** token ids per event: 500 × ~25 bytes stays far inside a TEXT column and an SSE line */
export const EVENT_MAX_IDS = 500

/** Events after `seq`, in order. */
export async function revocationsAfter(db: Kysely<Database>, seq: number, limit: number): Promise<RevocationEvent[]> {
  const rows = await db
    .selectFrom('revocation_events')
    .selectAll()
    .where('seq', '>', seq)
    .orderBy('seq')
    .limit(limit)
    .execute()
  return rows.map(toEvent)
}

/** Events after `after` up to and including `upTo`, in order. */
export async function revocationsBetween(
  db: Kysely<Database>,
  after: number,
  upTo: number,
  limit: number
): Promise<RevocationEvent[]> {
  const rows = await db
    .selectFrom('revocation_events')
    .selectAll()
    .where('seq', '>', after)
    .where('seq', '<=', upTo)
    .orderBy('seq')
    .limit(limit)
    .execute()
  return rows.map(toEvent)
}

/** The highest seq of events at or before `at` (0 when none): where a new follower starts. */
export async function lastRevocationSeqBefore(db: Kysely<Database>, at: number): Promise<number> {
  const r = await db
    .selectFrom('revocation_events')
    .select(sql<number | string | null>`max(seq)`.as('seq'))
    .where('at', '<=', at)
    .executeTakeFirst()
  return Number(r?.seq ?? 0)
}

/** The lowest seq still kept (null when the log is empty). */
export async function oldestRevocationSeq(db: Kysely<Database>): Promise<number | null> {
  const r = await db
    .selectFrom('revocation_events')
    .select(sql<number | string | null>`min(seq)`.as('seq'))
    .executeTakeFirst()
  return r?.seq === null || r?.seq === undefined ? null : Number(r.seq)
}

/**
 * Deletes events older than `before` (unix ms), always keeping the newest one (so a consumer can
 * tell how far the log has come); returns how many.
 */
export async function pruneRevocations(db: Kysely<Database>, before: number): Promise<number> {
  const newest = await db
    .selectFrom('revocation_events')
    .select(sql<number | string | null>`max(seq)`.as('seq'))
    .executeTakeFirst()
  if (newest?.seq === null || newest?.seq === undefined) return 0
  const res = await db
    .deleteFrom('revocation_events')
    .where('at', '<', before)
    .where('seq', '<', Number(newest.seq))
    .executeTakeFirst()
  return Number(res.numDeletedRows)
}

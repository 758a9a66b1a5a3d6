import type { Kysely } from 'kysely'
import type { Database } from '../db/tables.js'
import { recordEvent } from '../webhooks/events.js'

/** What the owner of a reported token is told: ids and kinds, never the value or the reporter's input. */
export interface LeakEvent {
  /** unix ms */
  at: number
  tokenId: string
  accountId: string
  kind: string
}

/**
 * The `token.leaked` webhook event, written in the transaction that revokes the reported token
 * (webhooks/events.ts: the outbox row exists if and only if the revoke committed).
 */
export async function recordLeakEvent(trx: Kysely<Database>, event: LeakEvent): Promise<void> {
  await recordEvent(
    trx,
    'token.leaked',
    { token_id: event.tokenId, account_id: event.accountId, kind: event.kind, reason: 'leaked' },
    event.at
  )
}

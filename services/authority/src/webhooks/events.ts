import { randomUUID } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { Database } from '../db/tables.js'
import { insertDeliveries, insertOutboxEvent, subscribedEndpointIds } from './webhook.repository.js'

/**
 * The published event types (docs/webhooks.md). Endpoints subscribe to a subset; payloads carry
 * ids and facts, never a token value, hash or password.
 */
export const EVENT_TYPES = [
  'token.created',
  'token.regenerated',
  'token.revoked',
  'token.expiring',
  'token.expired',
  'token.reuse_detected',
  'token.leaked',
  'account.disabled',
  'account.password_changed',
  /** only ever sent by "send test event", to the one endpoint asked */
  'webhook.test'
] as const

export type EventType = (typeof EVENT_TYPES)[number]

/** What an event's `data` may hold: JSON values (ids, names, times), never a secret. */
export type EventPayload = Record<string, unknown>

/**
 * Records an event in the transactional outbox: call it inside the transaction of the change it
 * describes (`trx` = that transaction), so the event exists if and only if the change committed.
 * One delivery row is queued for every enabled endpoint subscribed to `type` at that moment; the
 * delivery worker of any authority process sends it (webhooks/delivery-worker.ts).
 *
 * For other modules (rotation reuse detection, leaked-token reports):
 *   await recordEvent(trx, 'token.reuse_detected', { token_id, account_id, family: [...] }, now)
 *
 * Returns the event id (the `Webhook-Id` receivers deduplicate on).
 */
export async function recordEvent(
  trx: Kysely<Database>,
  type: EventType,
  payload: EventPayload,
  at: number = Date.now()
): Promise<string> {
  const id = randomUUID()
  await insertOutboxEvent(trx, { id, type, payload: JSON.stringify(payload), created_at: at })
  const endpoints = await subscribedEndpointIds(trx, type)
  await insertDeliveries(trx, id, endpoints, at)
  return id
}

/** The token fields an event carries (the id is the public accessor; never the value). */
export function tokenFacts(t: {
  id: string
  accountId: string
  kind: string
  name: string
  expiresAt: number | null
}): EventPayload {
  return {
    token_id: t.id,
    account_id: t.accountId,
    kind: t.kind,
    name: t.name,
    expires_at: t.expiresAt === null ? null : new Date(t.expiresAt).toISOString()
  }
}

/** Who made the change (an account and the credential it used), never an address or a secret. */
export function actorFacts(actor: { accountId: string | null; tokenId: string | null }): EventPayload {
  return { actor: { account_id: actor.accountId, token_id: actor.tokenId } }
}

import { randomUUID } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { Database } from '../db/tables.js'

/** Who made a change, from where. Never carries a secret. */
export interface Actor {
  accountId: string | null
  tokenId: string | null
  ip: string | null
}

export type AuditAction =
  | 'token.login'
  | 'token.create'
  | 'token.edit'
  | 'token.regenerate'
  | 'token.copy'
  | 'token.revoke'
  | 'token.rotation_end'
  | 'token.reuse_detected'
  | 'token.exchange'
  | 'token.revoke_matching'
  | 'account.revoke_before'
  | 'account.create'
  | 'account.edit'
  | 'account.disable'
  | 'account.enable'
  | 'account.password_change'
  | 'webhook.create'
  | 'webhook.edit'
  | 'webhook.delete'
  | 'webhook.rotate_secret'

/** The audit_events table: one row per change, written in the same transaction as the change (`db` first). */
export async function recordAudit(
  db: Kysely<Database>,
  at: number,
  actor: Actor,
  action: AuditAction,
  subject: { tokenId?: string | null; accountId?: string | null },
  details: Record<string, unknown>
): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({
      id: randomUUID(),
      at,
      action,
      token_id: subject.tokenId ?? null,
      account_id: subject.accountId ?? null,
      actor_account_id: actor.accountId,
      actor_token_id: actor.tokenId,
      ip: actor.ip === null ? null : actor.ip.slice(0, 64),
      details: JSON.stringify(details)
    })
    .execute()
}

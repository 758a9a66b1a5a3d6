/** Storage shape: unix ms in BIGINT columns, lists as JSON text (one meaning on MySQL and SQLite). */
import type { Selectable } from 'kysely'

/** A registered receiver of events (docs/webhooks.md). */
export interface WebhookEndpointsTable {
  id: string
  url: string
  description: string
  /** JSON array of event types */
  event_types: string
  /** the signing secret, AES-256-GCM under a key derived from the pepper (webhooks/secret-box.ts) */
  secret_sealed: string
  /** 1 = receives new events and pending deliveries go out; 0 = paused */
  enabled: number
  created_by: string | null
  created_at: number
  updated_at: number
}

/** The transactional outbox: one row per event, written in the transaction of the change. */
export interface OutboxEventsTable {
  /** the event id, sent as `Webhook-Id` (receivers deduplicate on it) */
  id: string
  type: string
  /** JSON: ids and facts, never a token value */
  payload: string
  created_at: number
}

/** One event to one endpoint: pending → delivered | failed. */
export interface WebhookDeliveriesTable {
  id: string
  endpoint_id: string
  event_id: string
  status: 'pending' | 'delivered' | 'failed'
  attempts: number
  next_attempt_at: number
  /** the worker holding it, until lease_until */
  claimed_by: string | null
  lease_until: number | null
  last_http_status: number | null
  last_error: string | null
  last_latency_ms: number | null
  created_at: number
  updated_at: number
  delivered_at: number | null
}

/** Notices already emitted for a token (`expiring:30d`, `expiring:7d`, `expiring:1d`, `expired`). */
export interface TokenNoticesTable {
  token_id: string
  notice: string
  at: number
}

export type WebhookEndpointRow = Selectable<WebhookEndpointsTable>
export type OutboxEventRow = Selectable<OutboxEventsTable>
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { SUBSCRIBABLE_EVENTS, type DeliveryLogEntry, type WebhookEndpoint } from '../webhooks/webhook-service.js'
import { actorOf, confirm, type RouteDeps } from './context.js'
import {
  AUTHED_ERRORS,
  ConfirmBody,
  ConfirmPassword,
  Description,
  errorResponses,
  EXAMPLE,
  Timestamp
} from './schemas.js'

const TAG = 'webhooks'
const EXAMPLE_ENDPOINT_ID = '7d9e2c41-5a3b-4f8e-b1c6-2e4f6a8b0c13'
const Params = Type.Object({ id: Type.String({ format: 'uuid', examples: [EXAMPLE_ENDPOINT_ID] }) })
const EventType = Type.Unsafe<string>({
  type: 'string',
  enum: [...SUBSCRIBABLE_EVENTS],
  description: 'an event type (docs/webhooks.md)'
})
const EventTypes = Type.Array(EventType, { minItems: 1, maxItems: SUBSCRIBABLE_EVENTS.length, uniqueItems: true })
const Url = Type.String({
  minLength: 8,
  maxLength: 2048,
  pattern: '^[Hh][Tt][Tt][Pp][Ss]?://',
  description: 'http(s) URL the events are POSTed to; no user:password part; redirects are never followed',
  examples: ['https://hooks.example.com/token-events']
})
const Cursor = Type.Optional(
  Type.String({
    maxLength: 200,
    description: 'next_cursor of the previous page; leave it out for the first page',
    // opaque: the created_at and id of the last item seen
    examples: [Buffer.from(JSON.stringify([Date.UTC(2026, 0, 1), EXAMPLE_ENDPOINT_ID])).toString('base64url')]
  })
)
const Limit = Type.Integer({ minimum: 1, maximum: 200, default: 50, examples: [20] })

const WebhookEndpointSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    url: Type.String(),
    description: Type.String(),
    event_types: Type.Array(Type.String()),
    enabled: Type.Boolean(),
    created_by: Type.Union([Type.String(), Type.Null()]),
    created_at: Timestamp,
    updated_at: Timestamp
  },
  { $id: 'WebhookEndpoint', additionalProperties: false }
)
const WebhookSecretSchema = Type.Object(
  {
    endpoint: Type.Ref('WebhookEndpoint'),
    secret: Type.String({
      description: 'the signing secret (`whsec_…`), shown this once; HMAC key of `Webhook-Signature`'
    })
  },
  { $id: 'WebhookEndpointWithSecret', additionalProperties: false }
)
const WebhookPageSchema = Type.Object(
  { items: Type.Array(Type.Ref('WebhookEndpoint')), next_cursor: Type.Union([Type.String(), Type.Null()]) },
  { $id: 'WebhookEndpointPage', additionalProperties: false }
)
const DeliverySchema = Type.Object(
  {
    id: Type.String(),
    event_id: Type.String({ description: 'the `Webhook-Id` the receiver saw' }),
    event_type: Type.String(),
    status: Type.Unsafe<'pending' | 'delivered' | 'failed'>({
      type: 'string',
      enum: ['pending', 'delivered', 'failed']
    }),
    attempts: Type.Integer(),
    next_attempt_at: Type.Union([Timestamp, Type.Null()], { description: 'when pending: the next attempt' }),
    last_http_status: Type.Union([Type.Integer(), Type.Null()], {
      description: 'status of the last answer; null when none came (refused, timed out)'
    }),
    last_error: Type.Union([Type.String(), Type.Null()]),
    last_latency_ms: Type.Union([Type.Integer(), Type.Null()]),
    created_at: Timestamp,
    updated_at: Timestamp,
    delivered_at: Type.Union([Timestamp, Type.Null()])
  },
  { $id: 'WebhookDelivery', additionalProperties: false }
)
const DeliveryPageSchema = Type.Object(
  { items: Type.Array(Type.Ref('WebhookDelivery')), next_cursor: Type.Union([Type.String(), Type.Null()]) },
  { $id: 'WebhookDeliveryPage', additionalProperties: false }
)

const iso = (ms: number): string => new Date(ms).toISOString()

function endpointView(e: WebhookEndpoint) {
  return {
    id: e.id,
    url: e.url,
    description: e.description,
    event_types: e.eventTypes,
    enabled: e.enabled,
    created_by: e.createdBy,
    created_at: iso(e.createdAt),
    updated_at: iso(e.updatedAt)
  }
}

function deliveryView(d: DeliveryLogEntry) {
  return {
    id: d.id,
    event_id: d.eventId,
    event_type: d.eventType,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: d.nextAttemptAt === null ? null : iso(d.nextAttemptAt),
    last_http_status: d.lastHttpStatus,
    last_error: d.lastError,
    last_latency_ms: d.lastLatencyMs,
    created_at: iso(d.createdAt),
    updated_at: iso(d.updatedAt),
    delivered_at: d.deliveredAt === null ? null : iso(d.deliveredAt)
  }
}

/** Admin: webhook endpoints (docs/webhooks.md). Scopes `webhooks:read` / `webhooks:write`. */
export const webhookRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, deps) => {
  const { webhooks } = deps
  for (const schema of [
    WebhookEndpointSchema,
    WebhookSecretSchema,
    WebhookPageSchema,
    DeliverySchema,
    DeliveryPageSchema
  ])
    app.addSchema(schema)

  app.post(
    '/v1/webhooks',
    {
      config: { scopes: ['webhooks:write'] },
      schema: {
        operationId: 'createWebhook',
        tags: [TAG],
        summary: 'Register a webhook endpoint (its signing secret is shown once)',
        body: Type.Object(
          {
            url: Url,
            description: Type.Optional(Description),
            event_types: EventTypes,
            enabled: Type.Optional(Type.Boolean({ default: true })),
            password: ConfirmPassword
          },
          {
            additionalProperties: false,
            examples: [
              {
                url: 'https://hooks.example.com/token-events',
                description: 'security team',
                event_types: ['token.revoked', 'token.expiring', 'token.reuse_detected'],
                password: EXAMPLE.password
              }
            ]
          }
        ),
        response: { 201: Type.Ref('WebhookEndpointWithSecret'), ...errorResponses(...AUTHED_ERRORS) }
      }
    },
    async (request, reply) => {
      const b = request.body
      await confirm(deps, request, b.password)
      const created = await webhooks.create(
        { url: b.url, description: b.description, eventTypes: b.event_types, enabled: b.enabled },
        actorOf(request)
      )
      void reply.code(201).header('cache-control', 'no-store')
      return { endpoint: endpointView(created.endpoint), secret: created.secret }
    }
  )

  app.get(
    '/v1/webhooks',
    {
      config: { scopes: ['webhooks:read'] },
      schema: {
        operationId: 'listWebhooks',
        tags: [TAG],
        summary: 'List webhook endpoints, oldest first',
        querystring: Type.Object({ limit: Limit, cursor: Cursor }, { additionalProperties: false }),
        response: { 200: Type.Ref('WebhookEndpointPage'), ...errorResponses(...AUTHED_ERRORS) }
      }
    },
    async (request) => {
      const page = await webhooks.list({ limit: request.query.limit, cursor: request.query.cursor })
      return { items: page.endpoints.map(endpointView), next_cursor: page.nextCursor }
    }
  )

  app.get(
    '/v1/webhooks/:id',
    {
      config: { scopes: ['webhooks:read'] },
      schema: {
        operationId: 'getWebhook',
        tags: [TAG],
        summary: 'Read a webhook endpoint (never its secret)',
        params: Params,
        response: { 200: Type.Ref('WebhookEndpoint'), ...errorResponses(...AUTHED_ERRORS, 404) }
      }
    },
    async (request) => endpointView(await webhooks.get(request.params.id))
  )

  app.patch(
    '/v1/webhooks/:id',
    {
      config: { scopes: ['webhooks:write'] },
      schema: {
        operationId: 'editWebhook',
        tags: [TAG],
        summary: 'Edit a webhook endpoint: url, description, event types, enabled (paused endpoints keep their queue)',
        params: Params,
        body: Type.Object(
          {
            url: Type.Optional(Url),
            description: Type.Optional(Description),
            event_types: Type.Optional(EventTypes),
            enabled: Type.Optional(Type.Boolean()),
            password: ConfirmPassword
          },
          { additionalProperties: false, examples: [{ enabled: false, password: EXAMPLE.password }] }
        ),
        response: { 200: Type.Ref('WebhookEndpoint'), ...errorResponses(...AUTHED_ERRORS, 404) }
      }
    },
    async (request) => {
      const b = request.body
      await confirm(deps, request, b.password)
      return endpointView(
        await webhooks.update(
          request.params.id,
          { url: b.url, description: b.description, eventTypes: b.event_types, enabled: b.enabled },
          actorOf(request)
        )
      )
    }
  )

  app.delete(
    '/v1/webhooks/:id',
    {
      config: { scopes: ['webhooks:write'] },
      schema: {
        operationId: 'deleteWebhook',
        tags: [TAG],
        summary: 'Delete a webhook endpoint and its delivery log (pending deliveries are dropped)',
        params: Params,
        body: ConfirmBody,
        response: { 204: Type.Null(), ...errorResponses(...AUTHED_ERRORS, 404) }
      }
    },
    async (request, reply) => {
      await confirm(deps, request, request.body.password)
      await webhooks.remove(request.params.id, actorOf(request))
      return reply.code(204).send(null)
    }
  )

  app.post(
    '/v1/webhooks/:id/rotate-secret',
    {
      config: { scopes: ['webhooks:write'] },
      schema: {
        operationId: 'rotateWebhookSecret',
        tags: [TAG],
        summary: 'Replace the signing secret (the new one is shown once; the old one stops signing at once)',
        params: Params,
        body: ConfirmBody,
        response: { 200: Type.Ref('WebhookEndpointWithSecret'), ...errorResponses(...AUTHED_ERRORS, 404) }
      }
    },
    async (request, reply) => {
      await confirm(deps, request, request.body.password)
      const rotated = await webhooks.rotateSecret(request.params.id, actorOf(request))
      void reply.header('cache-control', 'no-store')
      return { endpoint: endpointView(rotated.endpoint), secret: rotated.secret }
    }
  )

  app.post(
    '/v1/webhooks/:id/test',
    {
      config: { scopes: ['webhooks:write'] },
      schema: {
        operationId: 'sendWebhookTest',
        tags: [TAG],
        summary: 'Queue a webhook.test event to this endpoint (watch its delivery log)',
        params: Params,
        response: {
          202: Type.Object({ event_id: Type.String() }, { additionalProperties: false }),
          ...errorResponses(...AUTHED_ERRORS, 404)
        }
      }
    },
    async (request, reply) => {
      const { eventId } = await webhooks.sendTest(request.params.id, actorOf(request))
      void reply.code(202)
      return { event_id: eventId }
    }
  )

  app.get(
    '/v1/webhooks/:id/deliveries',
    {
      config: { scopes: ['webhooks:read'] },
      schema: {
        operationId: 'listWebhookDeliveries',
        tags: [TAG],
        summary: 'The delivery log of an endpoint, newest first',
        params: Params,
        querystring: Type.Object(
          {
            status: Type.Optional(
              Type.Unsafe<'pending' | 'delivered' | 'failed'>({
                type: 'string',
                enum: ['pending', 'delivered', 'failed'],
                examples: ['failed']
              })
            ),
            limit: Limit,
            cursor: Cursor
          },
          { additionalProperties: false }
        ),
        response: { 200: Type.Ref('WebhookDeliveryPage'), ...errorResponses(...AUTHED_ERRORS, 404) }
      }
    },
    async (request) => {
      const q = request.query
      const page = await webhooks.deliveries(request.params.id, { limit: q.limit, cursor: q.cursor, status: q.status })
      return { items: page.deliveries.map(deliveryView), next_cursor: page.nextCursor }
    }
  )
}

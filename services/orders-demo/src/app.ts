import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import tokenVerifier, { type VerifierOptions } from '@token-authority/fastify-verifier'

interface Order {
  id: string
  owner: string
  item: string
  quantity: number
}

/**
 * An orders API: a public route, a read route needing `orders:read`, a write route needing
 * `orders:write`. Customers see and create only their own orders; admins and services see all.
 */
export async function buildOrdersApp(
  verifier: VerifierOptions,
  opts: { logger?: FastifyServerOptions['logger'] } = {}
): Promise<FastifyInstance> {
  const app = Fastify({ logger: opts.logger ?? false })
  const orders: Order[] = []

  await app.register(tokenVerifier, verifier)

  app.get('/health', { config: { public: true } }, async () => ({ status: 'ok' }))

  app.get('/orders', { config: { scopes: ['orders:read'] } }, async (request) => {
    const auth = request.auth!
    return { items: auth.kind === 'customer' ? orders.filter((o) => o.owner === auth.subject) : orders }
  })

  app.post<{ Body: { item: string; quantity: number } }>(
    '/orders',
    {
      onRequest: [app.requireScopes('orders:write')],
      schema: {
        body: {
          type: 'object',
          required: ['item', 'quantity'],
          additionalProperties: false,
          properties: {
            item: { type: 'string', minLength: 1, maxLength: 100 },
            quantity: { type: 'integer', minimum: 1, maximum: 1000 }
          }
        }
      }
    },
    async (request, reply) => {
      const order: Order = {
        id: randomUUID(),
        owner: request.auth!.subject,
        item: request.body.item,
        quantity: request.body.quantity
      }
      orders.push(order)
      return reply.code(201).send(order)
    }
  )
  return app
}

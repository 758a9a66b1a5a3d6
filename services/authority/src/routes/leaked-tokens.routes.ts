import { isIPv6 } from 'node:net'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { err } from '../errors.js'
import type { RouteDeps } from './context.js'
import { EXAMPLE, errorResponses } from './schemas.js'

/** values per report */
export const MAX_LEAK_REPORT_VALUES = 100

const LeakReport = Type.Object(
  {
    tokens: Type.Array(Type.String({ minLength: 1, maxLength: 512 }), {
      minItems: 1,
      maxItems: MAX_LEAK_REPORT_VALUES,
      description: 'values found in the wild (a paste, a repository, a log); at most 100'
    })
  },
  { $id: 'LeakReport', additionalProperties: false, examples: [{ tokens: [EXAMPLE.tokenValue] }] }
)
const LeakReportReceipt = Type.Object(
  { received: Type.Integer({ description: 'how many values the report held (whatever they were)' }) },
  { $id: 'LeakReportReceipt', additionalProperties: false }
)

/**
 * The public leaked-token report (issue 17.3): anyone — a secret scanner, a person who found a
 * token in a paste — submits up to 100 values, and each that is a live token of ours is revoked
 * (reason `leaked`). No credential, so the answer says nothing about the values: always 202 with
 * their count, after the same work for each value. Rate-limited per client address before the
 * body is read. Bodies are never logged (and `tokens` is a redacted path besides).
 */
export const leakedTokenRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, deps) => {
  app.addSchema(LeakReport)
  app.addSchema(LeakReportReceipt)

  app.post(
    '/v1/leaked-tokens',
    {
      // 100 values of up to 512 characters
      bodyLimit: 64 * 1024,
      onRequest: async (request) => {
        const spent = await deps.leakReports.consume(clientBudgetKey(request.ip))
        if (!spent.ok) {
          throw err.too_many_requests('too many leak reports from this address', {
            retryAfterSeconds: Math.max(1, Math.ceil(spent.msBeforeNext / 1000))
          })
        }
      },
      schema: {
        operationId: 'reportLeakedTokens',
        tags: ['tokens'],
        summary:
          'Report leaked token values (public): live ones are revoked; the answer is the same whatever they were',
        security: [],
        body: Type.Ref('LeakReport'),
        response: { 202: Type.Ref('LeakReportReceipt'), ...errorResponses(400, 413, 415, 429, 503) }
      }
    },
    async (request, reply) => {
      const { tokens } = request.body as Type.Static<typeof LeakReport>
      await deps.tokens.revokeLeaked(tokens, request.ip)
      return reply.code(202).header('cache-control', 'no-store').send({ received: tokens.length })
    }
  )
}

/**
 * The budget a client address spends: an IPv4 address itself; for IPv6 its /64 (one host is usually
 * given a whole /64, so counting single addresses would give it 2^64 budgets).
 */
export function clientBudgetKey(ip: string): string {
  if (!isIPv6(ip)) return ip
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
  if (v4 !== null) return v4[1]!
  const [head = '', tail = ''] = ip.toLowerCase().split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === '' ? [] : tail.split(':')
  const groups = ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`
}

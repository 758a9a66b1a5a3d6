import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { withTimeout } from '../single-flight.js'

/** Probes answer even under load shedding: a pod under pressure is busy, not dead. */
const NEVER_SHED = { neverShed: true }

export interface HealthDeps {
  checks: Record<string, () => Promise<void>>
  timeoutMs: number
  /** false once shutdown has begun: readiness fails so the load balancer drains us */
  isReady: () => boolean
  /** true while load shedding refuses requests: readiness fails too, with checks.load "overloaded" */
  overloaded?: () => boolean
}

const Health = Type.Object(
  {
    status: Type.Unsafe<'ok' | 'fail'>({ type: 'string', enum: ['ok', 'fail'] }),
    checks: Type.Record(Type.String(), Type.String())
  },
  { $id: 'Health', additionalProperties: false }
)

export const healthRoutes: FastifyPluginAsyncTypebox<HealthDeps> = async (app, deps) => {
  app.addSchema(Health)
  const live = async () => ({ status: 'ok' as const, checks: {} })
  const liveness = (operationId: string) => ({
    logLevel: 'warn' as const,
    config: NEVER_SHED,
    schema: {
      operationId,
      tags: ['operations'],
      summary: 'Liveness: the process answers (never checks MySQL or Redis)',
      security: [],
      response: { 200: Type.Ref('Health') }
    }
  })
  app.get('/healthz', liveness('healthz'), live)
  app.get('/livez', liveness('livez'), live)

  app.get(
    '/readyz',
    {
      logLevel: 'warn',
      config: NEVER_SHED,
      schema: {
        operationId: 'readyz',
        tags: ['operations'],
        summary: 'Readiness: the database and the cache answer',
        security: [],
        response: { 200: Type.Ref('Health'), 503: Type.Ref('Health') }
      }
    },
    async (_request, reply) => {
      const checks: Record<string, string> = {}
      if (!deps.isReady()) checks.shutdown = 'draining'
      if (deps.overloaded?.()) checks.load = 'overloaded'
      await Promise.all(
        Object.entries(deps.checks).map(async ([name, check]) => {
          try {
            await withTimeout(check(), deps.timeoutMs, () => new Error('timeout'))
            checks[name] = 'ok'
          } catch (err) {
            checks[name] = (err as Error).message === 'timeout' ? 'timeout' : 'fail'
          }
        })
      )
      const ok = Object.values(checks).every((v) => v === 'ok')
      reply.code(ok ? 200 : 503)
      return { status: ok ? ('ok' as const) : ('fail' as const), checks }
    }
  )
}

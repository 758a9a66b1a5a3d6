import type { FastifyBaseLogger } from 'fastify'
import { AppError, err } from '../errors.js'
import { withTimeout } from '../single-flight.js'

/** Wraps a database call (a query or a whole transaction) in the fault policy below. */
export type QueryGuard = <T>(work: Promise<T>) => Promise<T>

export interface FaultPolicyOptions {
  /** DB_QUERY_TIMEOUT_MS: past it the caller gets a 503 (the work itself is not cancelled) */
  timeoutMs: number
  log: Pick<FastifyBaseLogger, 'error'>
  /** counts calls that failed or timed out (ta_dependency_errors_total{dependency="database"}) */
  onFault: () => void
}

/**
 * The database fault policy: calls fail closed within a bound, so a slow or dead database is a 503,
 * never a pass. An AppError thrown inside the work (a domain refusal) passes through; a deadlock
 * victim (InnoDB chose this transaction: a concurrent change won) is a retryable 409.
 */
export function databaseFaultPolicy(o: FaultPolicyOptions): QueryGuard {
  return <T>(work: Promise<T>): Promise<T> =>
    withTimeout(
      work.catch((cause: unknown) => {
        if (cause instanceof AppError) throw cause
        if ((cause as NodeJS.ErrnoException).code === 'ER_LOCK_DEADLOCK') {
          throw err.conflict()
        }
        o.onFault()
        o.log.error({ code: (cause as NodeJS.ErrnoException).code, msg_: (cause as Error).message }, 'database error')
        throw err.service_unavailable('the token store is unavailable, try again shortly')
      }),
      o.timeoutMs,
      () => {
        o.onFault()
        return err.service_unavailable('the token store is unavailable, try again shortly')
      }
    )
}

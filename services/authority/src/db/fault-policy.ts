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

/**
 * Runs a transaction again when InnoDB chose it as a deadlock victim (rolled back whole, nothing of
 * it kept), up to `attempts` runs in all; the last deadlock goes on to the fault policy (409). Only
 * for work that is safe to repeat as it stands, such as inserting a token minted before it.
 */
export async function retryOnDeadlock<T>(run: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run()
    } catch (cause) {
      if (attempt >= attempts || (cause as NodeJS.ErrnoException).code !== 'ER_LOCK_DEADLOCK') throw cause
    }
  }
}

/** Messages between the bench (parent) and the load-generator child process. */

export interface LoadRequest {
  method?: string
  path?: string
  headers?: Record<string, string>
  body?: string
}

export interface LoadJob {
  title: string
  url: string
  connections: number
  /** seconds */
  duration: number
  /** spread over the connections in disjoint strided slices; each connection cycles its slice */
  requests: LoadRequest[]
  /**
   * Each request consumes its item (regenerate: a token can be regenerated once): the warm-up
   * and the measured run get disjoint parts of the list instead of both starting at its head.
   */
  consumable?: boolean
  /** body check per response (a mismatch counts as an error): introspection active / inactive */
  expect?: 'active' | 'inactive' | 'any'
}

export interface LoadResult {
  title: string
  /** responses received */
  completed: number
  seconds: number
  rps: number
  meanMs: number
  p50Ms: number
  p90Ms: number
  p99Ms: number
  p999Ms: number
  maxMs: number
  /** connection errors (incl. timeouts) */
  errors: number
  timeouts: number
  non2xx: number
  mismatches: number
  statusCodes: Record<string, number>
  connections: number
  /** CPU time of the load generator process ÷ wall time (1.0 = one core busy: the client may be the limit) */
  clientCpu: number
}

export type ToChild = { type: 'job'; id: number; job: LoadJob } | { type: 'exit' }
export type FromChild =
  | { type: 'ready' }
  | { type: 'result'; id: number; result: LoadResult }
  | { type: 'error'; id: number; message: string }

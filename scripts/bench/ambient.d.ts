// Minimal typings for the two untyped devDependencies the benchmark drives (no @types exist for
// autocannon 8; oidc-provider 9 ships none). Only what scripts/bench uses.

declare module 'autocannon' {
  import type { EventEmitter } from 'node:events'

  export interface AutocannonRequest {
    method?: string
    path?: string
    headers?: Record<string, string>
    body?: string | Buffer
  }

  export interface AutocannonClient extends EventEmitter {
    setRequests(requests: AutocannonRequest[]): void
  }

  export interface AutocannonOptions {
    url: string
    connections?: number
    pipelining?: number
    duration?: number
    timeout?: number
    method?: string
    headers?: Record<string, string>
    body?: string
    requests?: AutocannonRequest[]
    setupClient?: (client: AutocannonClient) => void
    verifyBody?: (body: string) => boolean
    excludeErrorStats?: boolean
  }

  export interface AutocannonHistogram {
    average: number
    mean: number
    stddev: number
    min: number
    max: number
    total: number
    sent?: number
    p50: number
    p90: number
    p99: number
  }

  export interface AutocannonResult {
    requests: AutocannonHistogram
    latency: AutocannonHistogram
    duration: number
    errors: number
    timeouts: number
    mismatches: number
    non2xx: number
    resets: number
    statusCodeStats: Record<string, { count: number }>
  }

  export interface AutocannonInstance extends EventEmitter {
    stop(): void
  }

  function autocannon(
    opts: AutocannonOptions,
    cb: (err: Error | null, result: AutocannonResult) => void
  ): AutocannonInstance
  export default autocannon
}

declare module 'oidc-provider' {
  // The provider's surface is large and dynamic (models are created per instance); the bench
  // touches a handful of members, typed where it uses them.
  // biome-ignore lint/suspicious/noExplicitAny: the provider has no usable types; the bench types what it touches
  const Provider: new (issuer: string, configuration: Record<string, unknown>) => any
  export default Provider
}

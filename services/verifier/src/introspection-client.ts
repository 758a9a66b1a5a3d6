import { Pool } from 'undici'

/** What the authority says about a token (RFC 7662 plus its extensions). */
export interface IntrospectionResponse {
  active: boolean
  scope?: string
  client_id?: string
  username?: string
  token_type?: string
  exp?: number
  iat?: number
  sub?: string
  iss?: string
  jti?: string
  kind?: string
  token_kind?: string
  permissions?: string[]
  reason?: string
}

export interface IntrospectionResult {
  body: IntrospectionResponse
  /** Cache-Control max-age the authority allowed, in seconds (0 = do not cache) */
  maxAgeSeconds: number
}

/** The authority could not answer (down, slow, refused our credential): the caller fails closed. */
export class AuthorityUnavailableError extends Error {
  override name = 'AuthorityUnavailableError'
}

/** Introspection over one keep-alive connection pool to the authority. */
export class IntrospectionClient {
  readonly #pool: Pool
  readonly #authorization: string
  readonly #timeoutMs: number
  readonly #path: string
  /** calls made to the authority (for tests and metrics) */
  calls = 0

  constructor(opts: { authorityUrl: string; credential: string; timeoutMs: number; connections: number }) {
    const url = new URL(opts.authorityUrl)
    this.#path = `${url.pathname.replace(/\/$/, '')}/introspect`
    this.#pool = new Pool(url.origin, {
      connections: opts.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      connectTimeout: opts.timeoutMs,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs
    })
    this.#authorization = `Bearer ${opts.credential}`
    this.#timeoutMs = opts.timeoutMs
  }

  async introspect(token: string): Promise<IntrospectionResult> {
    this.calls++
    let res
    try {
      res = await this.#pool.request({
        method: 'POST',
        path: this.#path,
        headers: {
          authorization: this.#authorization,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json'
        },
        body: new URLSearchParams({ token }).toString(),
        signal: AbortSignal.timeout(this.#timeoutMs)
      })
    } catch (err) {
      throw new AuthorityUnavailableError(`authority unreachable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).name}`)
    }
    if (res.statusCode !== 200) {
      await res.body.dump()
      throw new AuthorityUnavailableError(`authority answered ${res.statusCode}`)
    }
    let body: IntrospectionResponse
    try {
      body = (await res.body.json()) as IntrospectionResponse
    } catch {
      throw new AuthorityUnavailableError('authority answered something that is not introspection JSON')
    }
    if (typeof body.active !== 'boolean') throw new AuthorityUnavailableError('authority answered without "active"')
    const cacheControl = String(res.headers['cache-control'] ?? '')
    const m = /(?:^|[,\s])max-age=(\d+)/.exec(cacheControl)
    const maxAgeSeconds = /no-store|no-cache/.test(cacheControl) || !m ? 0 : Number(m[1])
    return { body, maxAgeSeconds }
  }

  close(): Promise<void> {
    return this.#pool.close()
  }
}

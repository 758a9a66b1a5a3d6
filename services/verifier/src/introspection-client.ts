import { type Dispatcher, Pool } from 'undici'

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
  /** exchanged tokens (RFC 8693): the audiences the token is bound to */
  aud?: string[]
  /** exchanged tokens: who exchanged it */
  act?: { sub: string; token_id: string }
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

/** The end client a service introspects for (the authority's `client_address`, `client_user_agent`). */
export interface ClientInfo {
  address?: string
  userAgent?: string
}

const ADDRESS = /^[0-9A-Fa-f:.]{2,45}$/
// controls (tabs included) and what the authority's plain-text rule refuses become spaces
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const NOT_PLAIN = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/** What the authority accepts of a request's client: an IP literal, and a plain one-line user agent of at most 256 characters. */
export function clientInfo(request: {
  ip: string
  headers: Record<string, string | string[] | undefined>
}): ClientInfo {
  const out: ClientInfo = {}
  const ip = request.ip
  if (typeof ip === 'string' && ADDRESS.test(ip)) out.address = ip
  const ua = request.headers['user-agent']
  if (typeof ua === 'string' && ua.length > 0) out.userAgent = ua.replace(NOT_PLAIN, ' ').slice(0, 256)
  return out
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

  async introspect(token: string, client?: ClientInfo): Promise<IntrospectionResult> {
    const form = new URLSearchParams({ token })
    if (client?.address !== undefined) form.set('client_address', client.address)
    if (client?.userAgent !== undefined) form.set('client_user_agent', client.userAgent)
    this.calls++
    let res: Dispatcher.ResponseData
    try {
      res = await this.#pool.request({
        method: 'POST',
        path: this.#path,
        headers: {
          authorization: this.#authorization,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json'
        },
        body: form.toString(),
        signal: AbortSignal.timeout(this.#timeoutMs)
      })
    } catch (err) {
      throw new AuthorityUnavailableError(
        `authority unreachable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).name}`
      )
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

import { writeFileSync } from 'node:fs'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { secretScanPath, TEST_FILE } from './backends.js'

/**
 * For the suite-wide secret scan (SECRET_SCAN_DIR, see backends.ts and scripts/secret-scan.ts):
 * every token value and password an app of this authority saw or issued — request bodies (any
 * field named like a password or secret), Authorization headers (Bearer, and Basic's secret),
 * query strings, token-shaped strings anywhere in a request or a response, passwords given to the
 * account service directly and tokens it returns — plus the values of ordinary fields (usernames,
 * names, paths), which are not secrets wherever a test reused them as one.
 */
const TOKEN_RE = /(?<![A-Za-z0-9_-])[a-z]{2,8}_(?:pat|lgn|svc|xch)_[A-Za-z0-9_-]{132}(?![A-Za-z0-9_-])/g
const PASSWORD_KEY = /pass|pwd/i
/** fields that carry a credential (not `token_id`, `tokenId`, `token_type_hint`: those are public) */
const CREDENTIAL_KEY = /secret|^(token|access_token|refresh_token|id_token|session|api_?key)$/i
const MAX_RECORDED = 4096

export class SecretsSeen {
  readonly tokens = new Set<string>()
  readonly passwords = new Set<string>()
  readonly credentials = new Set<string>()
  readonly publicValues = new Set<string>()

  #tokensIn(text: string): void {
    for (const m of text.matchAll(TOKEN_RE)) this.tokens.add(m[0])
  }

  #add(set: Set<string>, value: string): void {
    if (value.length > 0 && value.length <= MAX_RECORDED) set.add(value)
  }

  /**
   * a value a test sent where nothing secret belongs (a username, a name, a header, a path): not
   * searched for, and neither is a token a test pasted into it (that the service stores or logs
   * such a field is the test's doing)
   */
  #public(value: string): void {
    this.#add(this.publicValues, value)
    for (const m of value.matchAll(TOKEN_RE)) this.publicValues.add(m[0])
  }

  /** a credential-bearing value: token-shaped parts are tokens, the whole is a credential */
  #credential(value: string): void {
    this.#tokensIn(value)
    this.#add(this.credentials, value)
  }

  /** walks a parsed body, a query object or any argument */
  #walk(value: unknown, key: string, depth: number): void {
    if (depth > 6 || value === null || value === undefined) return
    // a number or boolean where a string belongs is coerced to its text by validation (coerceTypes)
    // and may be stored as such: record that text like the string it becomes
    if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') value = String(value)
    if (typeof value === 'string') {
      if (PASSWORD_KEY.test(key)) {
        this.#tokensIn(value)
        this.#add(this.passwords, value)
      } else if (CREDENTIAL_KEY.test(key)) this.#credential(value)
      else this.#public(value)
      return
    }
    if (Array.isArray(value)) {
      for (const v of value) this.#walk(v, key, depth + 1)
      return
    }
    if (typeof value === 'object' && !Buffer.isBuffer(value)) {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) this.#walk(v, k, depth + 1)
    }
  }

  #request(request: FastifyRequest): void {
    const [path = '', query] = request.url.split('?', 2)
    for (const segment of path.split('/')) {
      try {
        this.#public(decodeURIComponent(segment))
      } catch {
        this.#public(segment)
      }
    }
    if (query !== undefined) this.#walk(Object.fromEntries(new URLSearchParams(query)), '', 0)
    for (const [name, value] of Object.entries(request.headers)) {
      for (const v of Array.isArray(value) ? value : [value ?? '']) {
        if (name === 'authorization') this.#authorization(v)
        else if (name === 'cookie') this.#tokensIn(v)
        // other headers are the client's own words (x-request-id is even logged)
        else this.#public(v)
      }
    }
  }

  #authorization(header: string): void {
    const [scheme = '', ...rest] = header.trim().split(/\s+/)
    const value = rest.join(' ')
    if (/^basic$/i.test(scheme)) {
      const decoded = Buffer.from(value, 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      if (colon >= 0) {
        this.#add(this.publicValues, decoded.slice(0, colon))
        this.#credential(decoded.slice(colon + 1))
      }
    } else this.#credential(value)
  }

  /**
   * Adds hooks that record requests and responses: call on the new instance before any route is
   * registered (buildApp's `instrument`), or the routes registered before never run them.
   */
  watchRequests(app: FastifyInstance): void {
    app.addHook('onRequest', async (request) => this.#request(request))
    // after parsing, before validation: a body refused by its schema still counts
    app.addHook('preValidation', async (request) => this.#walk(request.body, '', 0))
    app.addHook('onSend', async (_request, _reply, payload) => {
      if (typeof payload === 'string') this.#tokensIn(payload)
      else if (Buffer.isBuffer(payload)) this.#tokensIn(payload.toString('utf8'))
      return payload
    })
  }

  /** Wraps the services an app hands out: direct service calls (tests that set up through the services, not HTTP). */
  watchServices(app: FastifyInstance): void {
    const { accounts, tokens } = app.authority
    const positional: Record<string, number> = { login: 2, confirmPassword: 1, ensureFirstAdmin: 1 }
    wrapMethods(accounts, (name, args) => {
      this.#walk(
        args.filter((a) => typeof a === 'object'),
        '',
        0
      )
      const at = positional[name]
      if (at !== undefined && typeof args[at] === 'string') this.#add(this.passwords, args[at])
    })
    wrapMethods(
      tokens,
      () => undefined,
      (result) => {
        if (typeof result === 'string') this.#tokensIn(result)
        else if (
          typeof result === 'object' &&
          result !== null &&
          typeof (result as { value?: unknown }).value === 'string'
        ) {
          this.#tokensIn((result as { value: string }).value)
        }
      }
    )
  }

  /** writes the logs and the secrets seen next to the backend dumps */
  write(backend: string, logLevel: string, logs: readonly string[]): void {
    const path = secretScanPath(backend === 'embedded' ? 'embedded' : 'mysql-redis')
    if (path === undefined) return
    writeFileSync(`${path}.log`, `${logs.join('\n')}\n`, { mode: 0o600 })
    const body = {
      source: TEST_FILE,
      backend,
      logLevel,
      logLines: logs.length,
      tokens: [...this.tokens],
      passwords: [...this.passwords],
      credentials: [...this.credentials],
      public: [...this.publicValues]
    }
    writeFileSync(`${path}.secrets.json`, JSON.stringify(body), { mode: 0o600 })
  }
}

/** replaces each method of `target` with one that reports its arguments and (resolved) result */
function wrapMethods(
  target: object,
  onCall: (name: string, args: unknown[]) => void,
  onResult?: (result: unknown) => void
): void {
  const seen = new Set<string>()
  for (
    let proto = Object.getPrototypeOf(target) as object | null;
    proto !== null && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto) as object | null
  ) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const desc = Object.getOwnPropertyDescriptor(proto, name)
      if (name === 'constructor' || seen.has(name) || desc === undefined || typeof desc.value !== 'function') continue
      seen.add(name)
      const original = desc.value as (...args: unknown[]) => unknown
      Object.defineProperty(target, name, {
        configurable: true,
        writable: true,
        value: function (this: unknown, ...args: unknown[]) {
          onCall(name, args)
          const result = original.apply(target, args)
          if (onResult !== undefined) {
            if (result instanceof Promise) result.then(onResult, () => undefined)
            else onResult(result)
          }
          return result
        }
      })
    }
  }
}

import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import Provider from 'oidc-provider'

/**
 * The peer: node-oidc-provider introspecting its own opaque access tokens, configured as close
 * to the authority as it allows:
 * - a confidential client (the gateway) authenticating with client_secret_basic, as our gateways
 *   authenticate with a service token (Bearer, or Basic with client_id/client_secret);
 * - client_credentials tokens, opaque format (the default without resource indicators), minted
 *   through the provider's own model (`new provider.ClientCredentials(...).save()`, what its
 *   token endpoint calls);
 * - the introspection feature on, with an allow-all policy (the default one also allows a
 *   confidential client) and requests carrying token_type_hint=access_token (as gateways send;
 *   without it the provider also looks the value up as a refresh token);
 * - storage: an unbounded in-process Map adapter. Its bundled MemoryAdapter is an LRU of 1000
 *   entries and would evict most of the seeded set. So the peer's store is in memory, like our
 *   embedded cache hit, and never a database or Redis: on the MySQL + Redis backend the peer is
 *   the easier case.
 * Differences that remain: the peer keeps the whole token record and does no HMAC over the value
 * (its opaque value is a random id looked up as is), keeps no pepper-keyed hash, and answers
 * fewer fields (no username, kind, permissions); it runs on Koa, not Fastify.
 */

interface StoredEntry {
  payload: Record<string, unknown>
  /** ms epoch, or Infinity */
  expiresAt: number
}

/** Enough of the adapter interface for client credentials tokens (no grants, sessions, codes). */
function mapAdapterFactory(): new (model: string) => unknown {
  const store = new Map<string, StoredEntry>()
  return class MapAdapter {
    readonly #model: string
    constructor(model: string) {
      this.#model = model
    }
    #key(id: string): string {
      return `${this.#model}:${id}`
    }
    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number): Promise<void> {
      store.set(this.#key(id), {
        payload,
        expiresAt: typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity
      })
    }
    async find(id: string): Promise<Record<string, unknown> | undefined> {
      const e = store.get(this.#key(id))
      if (e === undefined) return undefined
      if (e.expiresAt <= Date.now()) {
        store.delete(this.#key(id))
        return undefined
      }
      return e.payload
    }
    async findByUid(): Promise<undefined> {
      return undefined
    }
    async findByUserCode(): Promise<undefined> {
      return undefined
    }
    async consume(id: string): Promise<void> {
      const e = store.get(this.#key(id))
      if (e) e.payload.consumed = Math.floor(Date.now() / 1000)
    }
    async destroy(id: string): Promise<void> {
      store.delete(this.#key(id))
    }
    async revokeByGrantId(): Promise<void> {}
  }
}

export interface Peer {
  url: string
  /** Basic credentials of the introspecting client */
  authorization: string
  tokens: string[]
  close(): Promise<void>
}

export async function startPeer(tokenCount: number): Promise<Peer> {
  const server: Server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const issuer = `http://127.0.0.1:${port}`
  const clientId = 'bench-gateway'
  const clientSecret = randomBytes(32).toString('base64url')
  const provider = new Provider(issuer, {
    adapter: mapAdapterFactory(),
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'orders:read'
      }
    ],
    scopes: ['orders:read'],
    features: {
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: async () => true },
      devInteractions: { enabled: false }
    },
    ttl: { ClientCredentials: 24 * 3600 },
    cookies: { keys: [randomBytes(16).toString('hex')] }
  })
  provider.proxy = false
  server.on('request', provider.callback())

  const client = await provider.Client.find(clientId)
  const tokens: string[] = []
  for (let i = 0; i < tokenCount; i++) {
    const token = new provider.ClientCredentials({ client, scope: 'orders:read' })
    tokens.push((await token.save()) as string)
  }
  const authorization = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`
  return {
    url: issuer,
    authorization,
    tokens,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

// The revocation stream across replicas (issue 14, point 3: "Any replica can serve any consumer";
// docs/revocation-stream.md): two authority apps on one database (and, on mysql+redis, one Redis).
// A consumer streaming from replica A hears a revoke made on replica B, and a consumer that
// resumes on B with the Last-Event-ID of an event A sent gets exactly what it missed: no loss, no
// repeat, no reset. Checked with a raw SSE reader and with the verification plugin (the consumer
// teams install) behind a load balancer that moves it from A to B.
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import t from 'tap'
import tokenVerifier, { type RevocationMessage } from '@token-authority/fastify-verifier'
import {
  bearer,
  createAccount,
  createService,
  login,
  startAuthority,
  type TestAuthority
} from '../support/authority.js'
import { openStream } from '../support/sse.js'
import { BACKEND_NAMES } from '../support/backends.js'
import { newPat, PW } from '../support/revocation-fixture.js'

/** how long an event may take to reach a consumer here: "it arrives", not a latency figure */
const ARRIVES_WITHIN_MS = 5000

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = ARRIVES_WITHIN_MS) {
  const started = Date.now()
  for (;;) {
    if (await check()) return Date.now() - started
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(5)
  }
}

/** the log as the database holds it, after `seq` */
async function logAfter(ta: TestAuthority, seq: number) {
  const rows = await ta.app.authority.database.db
    .selectFrom('revocation_events')
    .selectAll()
    .where('seq', '>', seq)
    .orderBy('seq')
    .execute()
  return rows.map((r) => ({ seq: Number(r.seq), at: Number(r.at), tokenIds: JSON.parse(r.token_ids) as string[] }))
}

async function lastSeq(ta: TestAuthority): Promise<number> {
  const all = await logAfter(ta, 0)
  return all.length === 0 ? 0 : all[all.length - 1]!.seq
}

/**
 * A TCP load balancer in front of the replicas: new connections go to the current target (none:
 * accepted and closed at once); `cutAll()` closes every open one. Keeps the head of each
 * connection's first request (to see what the consumer sent to which replica).
 */
class Balancer {
  #target: number | null
  readonly #server: Server
  readonly #links = new Set<Socket>()
  /** per connection: the replica's port and its first request's head (request line and headers) */
  readonly requests: { port: number; head: string }[] = []

  private constructor(server: Server, target: number) {
    this.#server = server
    this.#target = target
  }

  static async start(target: number): Promise<Balancer> {
    const server = createServer()
    const lb = new Balancer(server, target)
    server.on('connection', (client) => lb.#accept(client))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    return lb
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
  }

  /** where new connections go (null: nowhere) */
  route(port: number | null): void {
    this.#target = port
  }

  cutAll(): void {
    for (const s of this.#links) s.destroy()
  }

  #accept(client: Socket): void {
    const port = this.#target
    if (port === null) {
      client.destroy()
      return
    }
    const upstream = connect(port, '127.0.0.1')
    for (const s of [client, upstream]) {
      this.#links.add(s)
      s.on('close', () => this.#links.delete(s))
    }
    client.once('data', (chunk: Buffer) => {
      this.requests.push({ port, head: chunk.toString('latin1').split('\r\n\r\n')[0]! })
    })
    client.pipe(upstream)
    upstream.pipe(client)
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  }

  /** the stream requests (GET /v1/revocations) so far: which replica, and the Last-Event-ID sent */
  streamRequests(): { port: number; lastEventId: string | undefined }[] {
    return this.requests
      .filter((r) => r.head.startsWith('GET /v1/revocations'))
      .map((r) => ({ port: r.port, lastEventId: /^last-event-id: *(.*)$/im.exec(r.head)?.[1]?.trim() }))
  }

  async close(): Promise<void> {
    this.cutAll()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}

const portOf = (app: FastifyInstance) => (app.server.address() as AddressInfo).port

for (const name of BACKEND_NAMES()) {
  t.test(`the revocation stream across two replicas on ${name}`, async (t) => {
    const ta = await startAuthority(t, name)
    const a = ta.app
    const b = await ta.replica()
    const urlA = await a.listen({ port: 0, host: '127.0.0.1' })
    const urlB = await b.listen({ port: 0, host: '127.0.0.1' })
    // no stream socket of this test may hold an app's close
    t.teardown(() => {
      a.server.closeAllConnections()
      b.server.closeAllConnections()
    })
    const consumer = await createService(ta, 'stream-consumer', [
      'tokens:introspect',
      'tokens:introspect:reason',
      'tokens:revocations'
    ])
    await createAccount(ta, {
      username: 'rita',
      password: PW,
      kind: 'customer',
      permissions: ['tokens:read', 'tokens:write']
    })
    const session = await login(a, 'customer', 'rita', PW)
    /** a PAT revoked through the given replica's API */
    const revokeOn = async (replica: FastifyInstance, pat: { id: string }) => {
      const res = await replica.inject({
        method: 'DELETE',
        url: `/v1/tokens/${pat.id}`,
        headers: bearer(session),
        payload: { password: PW }
      })
      if (res.statusCode !== 200) throw new Error(`revoke failed: ${res.statusCode} ${res.body}`)
    }
    const pat = () => newPat(ta, session, 'pat')

    t.test('a consumer streaming from A hears a revoke made on B; resuming on B with A’s id is exact', async (t) => {
      const start = await lastSeq(ta)
      const onA = await openStream(`${urlA}/v1/revocations`, consumer.token)
      t.teardown(() => onA.close())
      t.equal(onA.res.status, 200)

      // 1. revoked on B, heard on A
      const x = await pat()
      await revokeOn(b, x)
      const waited = await waitUntil('the revoke made on B at the consumer of A', () => onA.about(x.id) !== undefined)
      t.comment(`${name}: revoked on B, the event reached the consumer of A ${waited} ms later`)
      const heard = onA.about(x.id)!
      const [logged] = await logAfter(ta, start)
      t.same(logged?.tokenIds, [x.id], 'the log holds the revoke made on B')
      t.equal(heard.event, 'revocation')
      t.equal(heard.id, logged!.seq, 'the event id is the seq of the log (shared by the replicas)')
      t.same(heard.data, {
        seq: logged!.seq,
        at: new Date(logged!.at).toISOString(),
        token_ids: [x.id],
        account_id: null,
        reason: 'revoked'
      })

      // 2. one made on A itself; the consumer leaves A right after it and resumes on B at once (B
      // may not have read that far yet: it waits for it rather than resetting or skipping)
      const y = await pat()
      await revokeOn(a, y)
      await waitUntil('the revoke made on A at the consumer of A', () => onA.about(y.id) !== undefined)
      await sleep(100)
      await onA.close()
      t.same(
        onA.received.map((e) => [e.event, e.id, e.data.token_ids]),
        (await logAfter(ta, start)).map((e) => ['revocation', e.seq, e.tokenIds]),
        'A sent both, once each, in seq order'
      )
      const lastFromA = onA.received[onA.received.length - 1]!.id!
      const onB = await openStream(`${urlB}/v1/revocations`, consumer.token, lastFromA)
      t.teardown(() => onB.close())
      t.equal(onB.res.status, 200)
      const z = await pat()
      const w = await pat()
      await revokeOn(b, z)
      await revokeOn(a, w)
      await waitUntil('both later revokes at the consumer of B', () => onB.received.length >= 2)
      await sleep(300) // nothing else may follow
      await onB.close()
      const sinceA = await logAfter(ta, lastFromA)
      t.same(
        sinceA.map((e) => e.tokenIds),
        [[z.id], [w.id]]
      )
      t.same(
        onB.received.map((e) => [e.event, e.id, e.data.token_ids]),
        sinceA.map((e) => ['revocation', e.seq, e.tokenIds]),
        'resumed on B after A’s last id: every later event, none of A’s again, no reset'
      )

      // 3. the other way round, with events missed while connected to neither
      const lastFromB = onB.received[onB.received.length - 1]!.id!
      const u = await pat()
      const v = await pat()
      await revokeOn(b, u)
      await revokeOn(a, v)
      const backOnA = await openStream(`${urlA}/v1/revocations`, consumer.token, lastFromB)
      t.teardown(() => backOnA.close())
      await waitUntil('the two missed events on A', () => backOnA.received.length >= 2)
      await sleep(300)
      await backOnA.close()
      t.same(
        backOnA.received.map((e) => [e.event, e.id, e.data.token_ids]),
        (await logAfter(ta, lastFromB)).map((e) => ['revocation', e.seq, e.tokenIds]),
        'resumed on A after B’s last id: exactly the missed ones'
      )
      t.same(
        [...onA.received, ...onB.received, ...backOnA.received].map((e) => e.id),
        (await logAfter(ta, start)).map((e) => e.seq),
        'across the three connections: every seq of the log once, in order'
      )
    })

    t.test('the verification plugin, moved from A to B by a load balancer, resumes exactly', async (t) => {
      const lb = await Balancer.start(portOf(a))
      t.teardown(() => lb.close())
      const start = await lastSeq(ta)
      const app = Fastify()
      await app.register(tokenVerifier, {
        authorityUrl: lb.url,
        credential: consumer.token,
        cache: { ttlSeconds: 30 },
        revocations: { reconnect: { minMs: 20, maxMs: 200 } }
      })
      app.get('/me', async (request) => ({ tokenId: request.auth!.tokenId }))
      const heard: RevocationMessage[] = []
      const resets: unknown[] = []
      app.tokenVerifier.revocationStream.events.on('revocation', (e: RevocationMessage) => heard.push(e))
      app.tokenVerifier.revocationStream.events.on('reset', (e: unknown) => resets.push(e))
      await app.ready()
      t.teardown(() => app.close())
      const { stats, revocationStream } = app.tokenVerifier
      t.equal(revocationStream.state, 'live', 'following the stream of A')
      const use = async (value: string) => (await app.inject({ url: '/me', headers: bearer(value) })).statusCode
      const heardOf = (id: string) => heard.some((e) => e.token_ids.includes(id))

      // 1. cached at the consumer, revoked on B: the event comes through A and drops the answer
      const x1 = await pat()
      t.equal(await use(x1.value), 200, 'cached')
      const evicted = stats.evictedByRevocation
      await revokeOn(b, x1)
      const waited = await waitUntil('the consumer on A to hear the revoke made on B', () => heardOf(x1.id))
      t.comment(`${name}: revoked on B, heard by the plugin (following A) ${waited} ms later`)
      t.equal(stats.evictedByRevocation, evicted + 1, 'its cached answer was dropped by the event')
      t.equal(await use(x1.value), 401, 'then refused (the cache TTL is 30 s: the stream did it)')

      // 2. one revoked on A, heard on A: its id is the last the consumer has from A
      const x2 = await pat()
      await revokeOn(a, x2)
      await waitUntil('the revoke made on A', () => heardOf(x2.id))
      const lastFromA = revocationStream.lastEventId
      t.equal(lastFromA, String(heard[heard.length - 1]!.seq))

      // 3. A is taken out: every connection cut, none let through while the consumer is away;
      //    meanwhile two revokes of tokens it has cached, one on each replica
      const x3 = await pat()
      const x4 = await pat()
      const kept = await pat()
      for (const p of [x3, x4, kept]) t.equal(await use(p.value), 200, 'cached before the cut')
      lb.route(null)
      lb.cutAll()
      await waitUntil('the consumer to notice', () => revocationStream.state === 'down')
      await revokeOn(a, x3)
      await revokeOn(b, x4)
      await sleep(100)
      t.notOk(heardOf(x3.id) || heardOf(x4.id), 'not heard while disconnected')

      // 4. the balancer sends it to B: it resumes from A's last id
      lb.route(portOf(b))
      await waitUntil('the missed revokes through B', () => heardOf(x3.id) && heardOf(x4.id))
      const streams = lb.streamRequests()
      t.same(
        streams,
        [
          { port: portOf(a), lastEventId: undefined },
          { port: portOf(b), lastEventId: lastFromA }
        ],
        'two stream connections: to A from the start, then to B with the Last-Event-ID A sent last'
      )
      t.equal(revocationStream.connects, 2)
      t.equal(await use(x3.value), 401, 'the revoke made on A while away: refused')
      t.equal(await use(x4.value), 401, 'the revoke made on B while away: refused')
      const calls = stats.authorityCalls()
      t.equal(await use(kept.value), 200, 'a token nobody revoked still passes…')
      t.equal(stats.authorityCalls(), calls, '…from the cache: it was not dropped wholesale')

      // 5. and it goes on live on B: a revoke made on A reaches it there
      const x5 = await pat()
      await revokeOn(a, x5)
      await waitUntil('a revoke made on A at the consumer now on B', () => heardOf(x5.id))
      await sleep(300)
      t.same(
        heard.map((e) => [e.seq, e.token_ids]),
        (await logAfter(ta, start)).map((e) => [e.seq, e.tokenIds]),
        'every event of the log since the consumer started, once each, in order: none lost or repeated across the move'
      )
      t.same(resets, [], 'no reset')
      t.equal(stats.cacheResets, 0, 'the cache was never dropped whole')
    })
  })
}

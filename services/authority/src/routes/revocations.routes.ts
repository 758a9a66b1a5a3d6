import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { oldestRevocationSeq, revocationsBetween, type RevocationEvent } from '../revocations/revocation.repository.js'
import type { AuthorityServices } from '../services.js'
import { readCredential } from '../auth/credentials.js'
import { err } from '../errors.js'
import { principalOf } from './context.js'
import { AUTHED_ERRORS, errorResponses } from './schemas.js'

const BACKLOG_BATCH = 1000
/** what may wait in the socket for a consumer that does not read, before it is dropped */
const MAX_BUFFERED_BYTES = 1 << 20
/** how long a resume from a seq this replica has not reached yet waits before it becomes a reset */
const RESUME_WAIT_MS = 2000
export const REVOCATIONS_SCOPE = 'tokens:revocations'

/** One event in the Server-Sent Events wire format (docs/revocation-stream.md). */
export function sseEvent(e: RevocationEvent): string {
  const data = {
    seq: e.seq,
    at: new Date(e.at).toISOString(),
    token_ids: e.tokenIds,
    account_id: e.accountId,
    reason: e.reason
  }
  return `id: ${e.seq}\nevent: revocation\ndata: ${JSON.stringify(data)}\n\n`
}

/**
 * GET /v1/revocations: the revocation log as Server-Sent Events, for consumers (the verification
 * plugin) that must forget cached answers without access to the authority's Redis. Any replica
 * serves any consumer: events come from the database in seq order, up to this replica's follower
 * cursor (every lower seq committed or timed out), so `Last-Event-ID` resumes exactly.
 */
export const revocationRoutes: FastifyPluginAsyncTypebox<AuthorityServices> = async (app, services) => {
  const { revocations, database, introspection, config } = services
  const open = new Set<() => void>()
  // before the server stops accepting and waits for connections: an open stream would hold it
  app.addHook('preClose', async () => {
    for (const end of [...open]) end()
  })

  app.get(
    '/v1/revocations',
    {
      config: { scopes: [REVOCATIONS_SCOPE], neverShed: true },
      logLevel: 'warn',
      schema: {
        operationId: 'streamRevocations',
        tags: ['rfc'],
        summary: 'The revocation log as Server-Sent Events (resume with Last-Event-ID)',
        description:
          'Each event names tokens (and, when every token of an account is concerned, the account) whose cached answers must be dropped. ' +
          "`id` is the event's sequence number: reconnect with `Last-Event-ID` to resume exactly. `event: reset` means the consumer is " +
          'further behind than the log keeps (REVOCATION_LOG_RETENTION_HOURS): drop the whole cache. A `: heartbeat` comment every ' +
          "REVOCATION_STREAM_HEARTBEAT_SECONDS (15 s by default), when the consumer's credential is checked again. " +
          'See docs/revocation-stream.md.',
        querystring: Type.Object(
          {
            last_event_id: Type.Optional(
              Type.Integer({
                minimum: 0,
                maximum: 999_999_999_999_999,
                description: 'the same as Last-Event-ID, for clients that cannot set headers',
                examples: [41]
              })
            )
          },
          { additionalProperties: false }
        ),
        response: {
          200: {
            description:
              'the stream: `id: <seq>`, `event: revocation`, `data: {seq, at, token_ids, account_id, reason}`; `event: reset`; `: heartbeat`',
            content: { 'text/event-stream': { schema: Type.String() } }
          },
          ...errorResponses(...AUTHED_ERRORS)
        }
      }
    },
    async (request, reply) => {
      // the standard way to resume (EventSource sends it on every reconnect); the query parameter
      // is for clients that cannot set headers
      const header = request.headers['last-event-id']
      if (header !== undefined && (typeof header !== 'string' || !/^[0-9]{1,15}$/.test(header))) {
        throw err.validation_failed('Last-Event-ID must be a sequence number this stream sent')
      }
      const given = header !== undefined ? Number(header) : request.query.last_event_id
      const caller = principalOf(request)
      const db = database.db
      const presented = readCredential(request, services.config.ALLOW_QUERY_TOKENS)
      const credential = presented.scheme === 'bearer' ? presented.token : ''

      reply.hijack()
      const raw = reply.raw
      const socket = request.raw.socket
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
        // the connection ends with the stream (a consumer reconnects on a new one): nothing idles
        // on it to hold a shutdown
        connection: 'close',
        'x-request-id': request.id
      })
      raw.write('retry: 1000\n\n')

      let closed = false
      // Where the stream stands: every event up to `sent` was written. One serialized pump does
      // all writing (the backlog first, then what the follower emits), so events go out in seq
      // order, each once, whatever arrives while the backlog is being read.
      let sent = revocations.cursor
      let resetTo: number | null = null
      const queue: RevocationEvent[] = []
      let pumping = false
      let wantPump = false
      /** writes, and waits while the consumer is not reading (bounded: a stuck consumer is dropped) */
      const write = async (chunk: string): Promise<void> => {
        if (closed) return
        if (raw.write(chunk)) return
        if (raw.writableLength > MAX_BUFFERED_BYTES) return end()
        await new Promise<void>((resolve) => {
          const done = () => {
            raw.off('drain', done)
            raw.off('close', done)
            resolve()
          }
          raw.on('drain', done)
          raw.on('close', done)
        })
      }
      const catchUp = async (upTo: number) => {
        while (!closed && sent < upTo) {
          const batch = await revocationsBetween(db, sent, upTo, BACKLOG_BATCH)
          for (const e of batch) await write(sseEvent(e))
          sent = batch.length === BACKLOG_BATCH ? batch[batch.length - 1]!.seq : upTo
        }
      }
      const pump = async (): Promise<void> => {
        if (pumping) {
          wantPump = true
          return
        }
        pumping = true
        try {
          do {
            wantPump = false
            if (resetTo !== null) {
              await write(`event: reset\ndata: ${JSON.stringify({ seq: resetTo })}\n\n`)
              sent = resetTo
              resetTo = null
            }
            await catchUp(revocations.cursor)
            while (queue.length > 0 && !closed) {
              const e = queue.shift()!
              if (e.seq <= sent) continue
              if (e.seq > sent + 1) await catchUp(e.seq - 1)
              await write(sseEvent(e))
              sent = e.seq
            }
          } while (wantPump && !closed)
        } catch (err) {
          request.log.warn({ msg_: (err as Error).message }, 'revocation stream: read failed; closing')
          end()
        } finally {
          pumping = false
        }
      }
      let unsubscribe = (): void => undefined
      // the consumer's credential is checked again at every heartbeat: a revoked one ends the stream
      const heartbeat = setInterval(() => {
        void write(': heartbeat\n\n')
        void introspection.verifyCaller(credential).then(
          (v) => {
            if (!v.active || !v.token.scopes.includes(REVOCATIONS_SCOPE)) end()
          },
          () => end()
        )
      }, config.REVOCATION_STREAM_HEARTBEAT_SECONDS * 1000)
      heartbeat.unref()
      function end(): void {
        if (closed) return
        closed = true
        clearInterval(heartbeat)
        unsubscribe()
        open.delete(end)
        raw.end()
        // a consumer that went away, or a shutdown: do not wait on the socket
        socket.destroy()
      }
      open.add(end)
      raw.on('close', end)
      // the consumer may be gone already (before this handler ran, 'close' was emitted unseen)
      if (socket.destroyed) return end()
      request.log.info({ caller: caller.id, from: given ?? 'now' }, 'revocation stream opened')

      try {
        if (given !== undefined) {
          // a consumer coming from a replica a little ahead of this one: wait (bounded) to catch up
          if (given > revocations.cursor) await revocations.reach(given, RESUME_WAIT_MS)
          const oldest = await oldestRevocationSeq(db)
          // behind what the log keeps (or ahead of it: another database): start over
          if (given > revocations.cursor || (oldest !== null && given < oldest - 1)) resetTo = revocations.cursor
          else sent = given
        }
        if (closed) return
        unsubscribe = revocations.onEvent((e) => {
          queue.push(e)
          void pump()
        })
        await pump()
      } catch (err) {
        request.log.warn({ msg_: (err as Error).message }, 'revocation stream: backlog read failed; closing')
        end()
      }
    }
  )
}

import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { Resolver } from 'node:dns/promises'
import { isIP, type LookupFunction } from 'node:net'
import { signPayload } from './secret-box.js'

export interface SendOptions {
  /** connection (TCP + TLS) must be up within this */
  connectTimeoutMs: number
  /** the whole exchange (connect, send, status line and headers) within this */
  timeoutMs: number
  userAgent: string
}

export interface SendResult {
  ok: boolean
  /** null when no response came (refused, timed out, reset) */
  status: number | null
  /** why it failed, short and free of secrets (no URL query, no body) */
  error: string | null
  latencyMs: number
}

type Address = { address: string; family: number }

/**
 * Name resolution through c-ares (`dns.resolve4/6`), not getaddrinfo: getaddrinfo runs on the libuv
 * thread pool, where a resolver that hangs would hold threads that bcrypt (password checks) needs;
 * c-ares is asynchronous and gives up after `timeoutMs`. /etc/hosts is not read, so `localhost`
 * is answered here; IP literals need no lookup.
 */
export function webhookLookup(timeoutMs: number): LookupFunction {
  return ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    const answer = (addresses: Address[]) => {
      const [first] = addresses
      if (first === undefined) {
        callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }))
      } else if (options?.all === true) callback(null, addresses)
      else callback(null, first.address, first.family)
    }
    const literal = isIP(hostname)
    if (literal !== 0) return answer([{ address: hostname, family: literal }])
    if (hostname === 'localhost') return answer([{ address: '127.0.0.1', family: 4 }])
    const resolver = new Resolver({ timeout: timeoutMs, tries: 1 })
    void Promise.allSettled([resolver.resolve4(hostname), resolver.resolve6(hostname)]).then(([v4, v6]) => {
      const found: Address[] = [
        ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 })) : []),
        ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 })) : [])
      ]
      if (found.length === 0 && v4.status === 'rejected') callback(v4.reason)
      else answer(found)
    })
  }) as LookupFunction
}

/**
 * One signed POST. Never follows a redirect (a 3xx is a failure: a receiver that moved must be
 * re-registered, and a redirect cannot send our signed payload to another host). Only 2xx is
 * success, known when the status line arrives; the body is drained and ignored (the total timeout
 * ends one that never ends).
 */
export function sendWebhook(
  url: string,
  secret: string,
  message: { id: string; type: string; body: string; timestamp: number },
  o: SendOptions
): Promise<SendResult> {
  const started = performance.now()
  const done = (status: number | null, error: string | null): SendResult => ({
    ok: status !== null && status >= 200 && status < 300,
    status,
    error,
    latencyMs: Math.round(performance.now() - started)
  })
  return new Promise((resolve) => {
    let settled = false
    const finish = (r: SendResult) => {
      if (settled) return
      settled = true
      resolve(r)
    }
    const target = new URL(url)
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest
    const req = send(
      target,
      {
        method: 'POST',
        agent: false,
        lookup: webhookLookup(o.connectTimeoutMs),
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(message.body),
          'user-agent': o.userAgent,
          'webhook-id': message.id,
          'webhook-timestamp': String(message.timestamp),
          'webhook-signature': signPayload(secret, message.id, message.timestamp, message.body),
          'webhook-event': message.type
        }
      },
      (res: IncomingMessage) => {
        const status = res.statusCode ?? 0
        const error =
          status >= 300 && status < 400
            ? 'redirect not followed'
            : status >= 200 && status < 300
              ? null
              : `HTTP ${status}`
        finish(done(status, error))
        // drain and ignore the body; the total timeout still ends a body that never ends
        res.on('error', () => {})
        res.resume()
      }
    )
    // A timer that fires after the event loop stalled would beat I/O that is already there (timers
    // run before the poll phase): decide in setImmediate, after that I/O has been read, so a stall
    // is not mistaken for a slow receiver (which would mean a needless second delivery).
    const giveUp = (why: string, still: () => boolean = () => true) =>
      setImmediate(() => {
        if (settled || !still()) return
        req.destroy()
        finish(done(null, why))
      })
    const total = setTimeout(() => giveUp(`timed out after ${o.timeoutMs} ms`), o.timeoutMs)
    req.on('socket', (socket) => {
      let up = false
      const connect = setTimeout(() => {
        giveUp(`no connection within ${o.connectTimeoutMs} ms`, () => !up)
      }, o.connectTimeoutMs)
      const connected = () => {
        up = true
        clearTimeout(connect)
      }
      socket.once(target.protocol === 'https:' ? 'secureConnect' : 'connect', connected)
      socket.once('close', connected)
    })
    req.on('close', () => clearTimeout(total))
    req.on('error', (e: NodeJS.ErrnoException) => finish(done(null, (e.code ?? 'request failed').slice(0, 64))))
    req.end(message.body)
  })
}

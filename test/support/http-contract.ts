import { request as httpRequest } from 'node:http'
import type { LightMyRequestResponse } from 'fastify'
import type t from 'tap'
import { errorCode, type TestAuthority } from './authority.js'

/** The one error contract (docs/design.md, "HTTP surface" and "Operations"), asserted by the RFC 6750 spec and the error-contract feature tests. */

export const REALM = 'token-authority'
export const ERROR_KEYS = ['code', 'error', 'message', 'requestId', 'statusCode']
export const INVALID_TOKEN_CHALLENGE =
  /^Bearer realm="token-authority", error="invalid_token", error_description="([^"]+)"$/

/** Asserts the one error shape: exact keys, status, code, and the request id echoed in the header. */
export function assertError(
  t: Tap,
  res: LightMyRequestResponse,
  status: number,
  code: string,
  label: string
): Record<string, unknown> {
  t.equal(res.statusCode, status, `${label}: status ${status}`)
  t.equal(errorCode(res), code, `${label}: code ${code}`)
  t.match(String(res.headers['content-type']), /^application\/json/, `${label}: JSON body`)
  const body = res.json() as Record<string, unknown>
  t.strictSame(Object.keys(body).sort(), ERROR_KEYS, `${label}: exactly the error keys`)
  t.equal(body.statusCode, status, `${label}: statusCode in the body`)
  t.type(body.message, 'string')
  t.type(body.error, 'string')
  t.ok(typeof body.requestId === 'string' && body.requestId.length > 0, `${label}: a request id`)
  t.equal(body.requestId, res.headers['x-request-id'], `${label}: requestId equals the x-request-id header`)
  return body
}
/** the assertion methods the helpers use (a subtest has them all) */
export type Tap = Pick<typeof t, 'equal' | 'match' | 'strictSame' | 'type' | 'ok'>

export function assertNotLogged(t: Tap, ta: TestAuthority, secret: string, label: string): void {
  t.ok(ta.logs.length > 0, 'logs were captured')
  const hits = ta.logs.filter((line) => line.includes(secret))
  t.equal(hits.length, 0, `${label} appears in no log line${hits.length > 0 ? `: ${hits[0]}` : ''}`)
}

/** A raw HTTP request, for what light-my-request cannot express faithfully. */
export function rawGet(
  port: number,
  path: string,
  headers: Record<string, string | string[]>
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method: 'GET', headers: { ...headers, connection: 'close' }, agent: false },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (body += c))
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, unknown>, body })
        )
      }
    )
    req.on('error', reject)
    req.end()
  })
}

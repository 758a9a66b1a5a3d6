import type { FastifyRequest } from 'fastify'
import { err } from '../errors.js'

export type PresentedCredential =
  | { scheme: 'bearer'; token: string; via: 'header' | 'query' }
  | { scheme: 'basic'; username: string; secret: string }
  | { scheme: 'none' }

/** a bearer credential sent wrongly: 400 with the RFC 6750 challenge `error="invalid_request"` */
export const badBearer = (message: string) => err.invalid_request(message, { bearerError: 'invalid_request' })

const QUERY_PARAMS = ['access_token', 'session'] as const

function headerCount(request: FastifyRequest, name: string): number {
  // Node keeps only the first Authorization header; count the raw ones to refuse ambiguity.
  const raw = request.raw.rawHeaders
  let n = 0
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) n++
  return n
}

/**
 * Reads the credential from the request (RFC 6750 §2): the Authorization header, or the
 * `access_token` / `session` query parameter only when enabled. More than one way at once is a
 * 400 invalid_request (§2, "MUST NOT use more than one method").
 */
export function readCredential(request: FastifyRequest, allowQuery: boolean): PresentedCredential {
  const query = (request.query ?? {}) as Record<string, unknown>
  const inQuery = QUERY_PARAMS.filter((p) => query[p] !== undefined)
  if (inQuery.length > 0 && !allowQuery) {
    throw badBearer('tokens in the query string are disabled; use the Authorization header')
  }
  const headers = headerCount(request, 'authorization')
  if (headers > 1) throw badBearer('more than one Authorization header')
  if (inQuery.length > 1 || (inQuery.length === 1 && headers === 1)) {
    throw badBearer('give the token one way only')
  }
  if (inQuery.length === 1) {
    const value = query[inQuery[0]!]
    // Consumed here: the route's own query schema never sees (or echoes) the credential.
    delete query[inQuery[0]!]
    if (typeof value !== 'string' || value === '') throw badBearer('empty token parameter')
    return { scheme: 'bearer', token: value, via: 'query' }
  }
  const header = request.headers.authorization
  if (header === undefined || header === '') return { scheme: 'none' }
  const space = header.indexOf(' ')
  const scheme = (space === -1 ? header : header.slice(0, space)).toLowerCase()
  const rest = space === -1 ? '' : header.slice(space + 1).trim()
  if (scheme === 'bearer') {
    if (rest === '' || /\s/.test(rest)) throw badBearer('malformed Bearer credential')
    return { scheme: 'bearer', token: rest, via: 'header' }
  }
  if (scheme === 'basic') {
    const decoded = Buffer.from(rest, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon <= 0) throw err.invalid_request('malformed Basic credential')
    // RFC 6749 §2.3.1: client id and secret are form-urlencoded before Basic encoding.
    try {
      return {
        scheme: 'basic',
        username: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')),
        secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '))
      }
    } catch {
      throw err.invalid_request('malformed Basic credential')
    }
  }
  throw badBearer('unsupported authorization scheme; use Bearer')
}

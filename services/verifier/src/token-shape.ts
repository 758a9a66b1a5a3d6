import { crc32 } from 'node:zlib'

/**
 * The token value's shape, shared by the authority (which mints and parses tokens) and this plugin
 * (which rejects what cannot be a token without a network call):
 *
 *   <prefix>_<kind>_<body>          body = base64url of 99 bytes, always 132 characters
 *                                   bytes 95..98 = CRC32 of "<prefix>_<kind>_" || bytes 0..94
 *
 * Only the shape and the checksum live here; the rest of the layout (version, key id, HMAC) is the
 * authority's (services/authority/src/tokens/token-format.ts). Node built-ins only: the authority
 * imports this file by path and compiles it into its own build; keep it free of package imports.
 */
/** PAT, login, service, and exchanged (RFC 8693, short-lived and audience-bound) tokens */
export const TOKEN_KINDS = ['pat', 'lgn', 'svc', 'xch'] as const
export type TokenKind = (typeof TOKEN_KINDS)[number]

/** characters of the body: 99 bytes in base64url, a whole number of quanta (no padding) */
export const TOKEN_BODY_CHARS = 132
export const TOKEN_BODY_BYTES = 99
/** where the CRC32 starts in the body (its last 4 bytes) */
export const TOKEN_CRC_OFFSET = TOKEN_BODY_BYTES - 4

const BODY_RE = /^[A-Za-z0-9_-]+$/

/** What secret scanners match: `<prefix>_(pat|lgn|svc|xch)_` and 132 base64url characters. */
export function tokenRegex(prefix: string): RegExp {
  return new RegExp(`^${prefix}_(${TOKEN_KINDS.join('|')})_[A-Za-z0-9_-]{${TOKEN_BODY_CHARS}}$`)
}

export interface TokenParts {
  /** `<prefix>_<kind>_` */
  head: string
  kind: TokenKind
  /** the body, decoded (TOKEN_BODY_BYTES bytes) */
  body: Buffer
}

/**
 * The parts of a value of our shape (prefix, kind, length, alphabet), or null. The checksum is not
 * checked here (`checksumOk`). 132 characters of the base64url alphabet are exactly 99 bytes: each
 * value has one spelling (the alphabet test keeps out the standard-base64 characters Node also reads).
 */
export function splitToken(value: unknown, prefix: string): TokenParts | null {
  if (typeof value !== 'string' || value.length !== prefix.length + 5 + TOKEN_BODY_CHARS) return null
  const head = value.slice(0, prefix.length + 5)
  const kind = head.slice(prefix.length + 1, prefix.length + 4) as TokenKind
  if (head !== `${prefix}_${kind}_` || !TOKEN_KINDS.includes(kind)) return null
  const text = value.slice(head.length)
  if (!BODY_RE.test(text)) return null
  const body = Buffer.from(text, 'base64url')
  return body.length === TOKEN_BODY_BYTES ? { head, kind, body } : null
}

/** The CRC32 a token carries: over the head and the body's bytes before the checksum. */
export function tokenChecksum(head: string, body: Buffer): number {
  return crc32(body.subarray(0, TOKEN_CRC_OFFSET), crc32(head))
}

export function checksumOk(head: string, body: Buffer): boolean {
  return body.readUInt32BE(TOKEN_CRC_OFFSET) === tokenChecksum(head, body)
}

/**
 * The offline check of the authority's token format: prefix, kind, length, alphabet and CRC32. It
 * rejects what cannot be ours without a network call; it does not prove a token valid (only the
 * authority can: HMAC, revocation, expiry).
 */
export function tokenShapeOk(value: string, prefix: string): boolean {
  if (!/^[a-z]{2,8}$/.test(prefix)) return false
  const parts = splitToken(value, prefix)
  return parts !== null && checksumOk(parts.head, parts.body)
}

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import {
  checksumOk,
  splitToken,
  TOKEN_BODY_BYTES,
  TOKEN_BODY_CHARS,
  TOKEN_CRC_OFFSET,
  tokenChecksum,
  type TokenKind
} from '../../../verifier/src/token-shape.js'
import type { SigningKey } from '../config.js'

// The shape (prefix, kind, length, alphabet, CRC32) is defined once, with the verifier package,
// which checks it offline: services/verifier/src/token-shape.ts.
export { TOKEN_BODY_CHARS, TOKEN_KINDS, tokenRegex, type TokenKind } from '../../../verifier/src/token-shape.js'

/**
 * The token value (docs/design.md, "Tokens"):
 *
 *   <prefix>_<kind>_<body>          body = base64url of 99 bytes, always 132 characters
 *
 *   body bytes  0      version (1)
 *               1..8   signing key id, ASCII, zero-padded (8)
 *               9..24  token id, the public accessor (16)
 *              25..30  expiry, unix seconds, uint48; 0 = never (6)
 *              31..62  secret, CSPRNG (32 bytes = 256 bits)
 *              63..94  HMAC-SHA256(key[kid], "<prefix>_<kind>_" || bytes 0..62)
 *              95..98  CRC32 of "<prefix>_<kind>_" || bytes 0..94
 *
 * Scanners match `<prefix>_(pat|lgn|svc|xch)_[A-Za-z0-9_-]{132}` and validate the CRC32 offline
 * (docs/scanners/gitleaks.toml).
 * The HMAC covers the id, the expiry and the secret, so a forged or altered token is rejected in
 * constant time before any cache or database is touched, and the expiry is readable without I/O.
 */
const VERSION = 1
const KID_LEN = 8
const ID_LEN = 16
const SECRET_LEN = 32
const TAG_LEN = 32
const OFF_KID = 1
const OFF_ID = OFF_KID + KID_LEN
const OFF_EXP = OFF_ID + ID_LEN
const OFF_SECRET = OFF_EXP + 6
const OFF_TAG = OFF_SECRET + SECRET_LEN
const OFF_CRC = OFF_TAG + TAG_LEN
const BODY_LEN = OFF_CRC + 4
// the layout must fill the shared shape exactly; parseToken relies on the body being a whole number
// of base64 quanta (one spelling per value)
if (BODY_LEN !== TOKEN_BODY_BYTES || OFF_CRC !== TOKEN_CRC_OFFSET)
  throw new Error('token layout does not match the shared token shape')
if (BODY_LEN % 3 !== 0 || (BODY_LEN / 3) * 4 !== TOKEN_BODY_CHARS)
  throw new Error('token body must be whole base64 quanta')
const MAX_EXP = 2 ** 48 - 1

export interface TokenClaims {
  kind: TokenKind
  kid: string
  /** public token id (base64url, 22 chars) */
  id: string
  /** unix seconds, or null for a token that never expires */
  exp: number | null
}

export type ParseResult =
  | { ok: true; claims: TokenClaims }
  | { ok: false; reason: 'malformed' | 'checksum' | 'unknown_key' | 'signature' }

export function newTokenId(): string {
  return randomBytes(ID_LEN).toString('base64url')
}

function tag(key: Buffer, head: string, bytes: Buffer): Buffer {
  return createHmac('sha256', key).update(head).update(bytes).digest()
}

/** Builds a token value; the caller keeps only `hashToken(value)`. */
export function encodeToken(
  prefix: string,
  kind: TokenKind,
  key: SigningKey,
  id: string,
  exp: number | null,
  secret: Buffer = randomBytes(SECRET_LEN)
): string {
  const idBytes = Buffer.from(id, 'base64url')
  if (idBytes.length !== ID_LEN) throw new RangeError('token id must be 16 bytes')
  if (exp !== null && (!Number.isInteger(exp) || exp <= 0 || exp > MAX_EXP)) throw new RangeError('bad expiry')
  if (secret.length !== SECRET_LEN) throw new RangeError('secret must be 32 bytes')
  const head = `${prefix}_${kind}_`
  const body = Buffer.alloc(BODY_LEN)
  body[0] = VERSION
  body.write(key.kid, OFF_KID, KID_LEN, 'ascii')
  idBytes.copy(body, OFF_ID)
  body.writeUIntBE(exp ?? 0, OFF_EXP, 6)
  secret.copy(body, OFF_SECRET)
  tag(key.secret, head, body.subarray(0, OFF_TAG)).copy(body, OFF_TAG)
  body.writeUInt32BE(tokenChecksum(head, body), OFF_CRC)
  return head + body.toString('base64url')
}

/**
 * Checks shape, checksum and HMAC. Pure CPU, no I/O, never throws: any input gives an outcome.
 * The checksum is checked first (cheap, and what a scanner checks); the tag in constant time.
 */
export function parseToken(value: unknown, prefix: string, keys: readonly SigningKey[]): ParseResult {
  const parts = splitToken(value, prefix)
  if (parts === null || parts.body[0] !== VERSION) return { ok: false, reason: 'malformed' }
  const { head, kind, body } = parts
  if (!checksumOk(head, body)) return { ok: false, reason: 'checksum' }
  const kid = body.toString('ascii', OFF_KID, OFF_KID + KID_LEN).replace(/\0+$/, '')
  const key = keys.find((k) => k.kid === kid)
  if (key === undefined) return { ok: false, reason: 'unknown_key' }
  const expected = tag(key.secret, head, body.subarray(0, OFF_TAG))
  if (!timingSafeEqual(expected, body.subarray(OFF_TAG, OFF_CRC))) return { ok: false, reason: 'signature' }
  const exp = body.readUIntBE(OFF_EXP, 6)
  return {
    ok: true,
    claims: { kind, kid, id: body.subarray(OFF_ID, OFF_EXP).toString('base64url'), exp: exp === 0 ? null : exp }
  }
}

/** Whether a string has our shape and checksum: the offline check secret scanners (and verifiers) do. */
export function hasValidChecksum(value: string, prefix: string): boolean {
  const r = parseToken(value, prefix, [])
  return r.ok || r.reason === 'unknown_key'
}

/** The keyed hash stored at rest (never the value): HMAC-SHA256 with a pepper kept outside the DB. */
export function hashToken(pepper: Buffer, value: string): Buffer {
  return createHmac('sha256', pepper).update(value).digest()
}

export function hashesEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}

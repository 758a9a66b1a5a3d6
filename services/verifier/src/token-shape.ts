import { crc32 } from 'node:zlib'

/**
 * The offline check of the authority's token format (see the authority README): prefix, kind,
 * length, alphabet and CRC32. It rejects what cannot be ours without a network call; it does not
 * prove a token valid (only the authority can: HMAC, revocation, expiry).
 */
const BODY_CHARS = 132
const BODY_BYTES = 99
const CRC_OFFSET = 95

export function tokenShapeOk(value: string, prefix: string): boolean {
  if (value.length !== prefix.length + 5 + BODY_CHARS) return false
  const head = value.slice(0, prefix.length + 5)
  if (!/^[a-z]{2,8}_(pat|lgn|svc)_$/.test(head) || !head.startsWith(`${prefix}_`)) return false
  const text = value.slice(head.length)
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return false
  const body = Buffer.from(text, 'base64url')
  if (body.length !== BODY_BYTES) return false
  return body.readUInt32BE(CRC_OFFSET) === crc32(body.subarray(0, CRC_OFFSET), crc32(head))
}

import { hash as oneShotHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { hashToken, parseToken, type ParseResult, type TokenClaims } from './token-format.js'
import type { TokenKeys } from './token-keys.js'

/** A presented value, read: its signed claims and the keyed hash it is stored under. */
export interface ReadValue {
  claims: TokenClaims
  /** hashToken(pepper, value): what the database row and the cache entry hold */
  hash: Buffer
}

export type ReadResult = { ok: true; value: ReadValue } | Extract<ParseResult, { ok: false }>

/**
 * What verifying a token value's signature found, remembered: SHA-256 of the value → its claims and
 * its storage hash, so a value seen again skips the signature HMAC and the storage HMAC (two keyed
 * hashes, ≈ 8 µs) for one plain one-shot digest (≈ 1.7 µs).
 *
 * What is remembered is a pure function of the value and the keys this process was started with:
 * nothing about the token's state (revoked, expired, the owner's permissions) is kept here, so a
 * revocation, a disable or a permission change is seen exactly as without it. The signed expiry is
 * still checked on every use by the caller.
 *
 * Only values that passed the signature check are kept. A forged value is never stored, so forged
 * traffic cannot evict good entries (an attacker would need validly signed values, that is real
 * tokens); it pays the digest on top of the usual checks and is refused as before, with no I/O.
 * Bounded by entry count (LRU); keyed by a digest, so no secret is held as a map key.
 */
export class VerifiedValues {
  readonly #keys: TokenKeys
  readonly #lru: LRUCache<string, ReadValue> | undefined

  /** `max` 0 = off: every value is read in full */
  constructor(keys: TokenKeys, max: number) {
    this.#keys = keys
    this.#lru = max > 0 ? new LRUCache<string, ReadValue>({ max }) : undefined
  }

  /** Parses and verifies a presented value (or recalls it); never throws, no I/O. */
  read(value: unknown): ReadResult {
    const lru = this.#lru
    // the memo only ever holds token-shaped strings; anything else goes straight to the full check
    if (lru === undefined || typeof value !== 'string' || value.length > 256) return this.#readFully(value)
    const key = oneShotHash('sha256', value, 'base64')
    const known = lru.get(key)
    if (known !== undefined) return { ok: true, value: known }
    const result = this.#readFully(value)
    if (result.ok) lru.set(key, result.value)
    return result
  }

  /** forget everything (tests; a key change would start a new process anyway) */
  clear(): void {
    this.#lru?.clear()
  }

  get size(): number {
    return this.#lru?.size ?? 0
  }

  #readFully(value: unknown): ReadResult {
    const { prefix, signingKeys, pepper } = this.#keys
    const parsed = parseToken(value, prefix, signingKeys)
    if (!parsed.ok) return parsed
    return { ok: true, value: { claims: parsed.claims, hash: hashToken(pepper, value as string) } }
  }
}

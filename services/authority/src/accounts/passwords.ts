import bcrypt from 'bcrypt'

/** bcrypt for passwords only (never for tokens: too slow for the hot path). */
export class PasswordHasher {
  /** a hash of a random string at the same cost: unknown users cost the same time as known ones */
  readonly #dummy: Promise<string>

  constructor(readonly cost: number) {
    this.#dummy = bcrypt.hash(`no-such-user-${Math.random()}`, cost)
  }

  hash(password: string): Promise<string> {
    return bcrypt.hash(password, this.cost)
  }

  /**
   * Compares against `hash`, or the dummy hash when there is no account: same work either way. A
   * password over 72 bytes never matches (bcrypt would compare only its first 72 bytes, so a
   * prefix would do); it is checked against the dummy, so the answer costs the same.
   */
  async verify(password: string, hash: string | undefined): Promise<boolean> {
    const fits = passwordFits(password)
    const target = fits && hash !== undefined ? hash : await this.#dummy
    const ok = await bcrypt.compare(password, target)
    return ok && fits && hash !== undefined
  }
}

/** bcrypt reads at most 72 bytes; longer passwords would be silently truncated, so refuse them. */
export const PASSWORD_MAX_BYTES = 72
const LONE_SURROGATE = /[\uD800-\uDFFF]/u
/**
 * At most 72 bytes, and well-formed: bcrypt turns every lone surrogate into U+FFFD, so
 * "pw\uD800" and "pw\uDFFF" would be one password.
 */
export function passwordFits(password: string): boolean {
  return Buffer.byteLength(password, 'utf8') <= PASSWORD_MAX_BYTES && !LONE_SURROGATE.test(password)
}

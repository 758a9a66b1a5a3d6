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

  /** Compares against `hash`, or the dummy hash when there is no account: same work either way. */
  async verify(password: string, hash: string | undefined): Promise<boolean> {
    const target = hash ?? (await this.#dummy)
    const ok = await bcrypt.compare(password, target)
    return ok && hash !== undefined
  }
}

/** bcrypt reads at most 72 bytes; longer passwords would be silently truncated, so refuse them. */
export const PASSWORD_MAX_BYTES = 72
export function passwordFits(password: string): boolean {
  return Buffer.byteLength(password, 'utf8') <= PASSWORD_MAX_BYTES
}

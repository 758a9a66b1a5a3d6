import type { SigningKey } from '../config.js'

/** What reading and minting token values needs: the prefix, the signing keys (first = current) and the pepper. */
export interface TokenKeys {
  prefix: string
  signingKeys: readonly SigningKey[]
  pepper: Buffer
}

/** A counter the services bump (a prom-client Counter in the app; anything with inc() in tests). */
export interface Count {
  inc(): void
}

import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto'

/**
 * Webhook signing secrets must be recoverable (they sign every request), so they are encrypted,
 * not hashed: AES-256-GCM under a key derived (HKDF-SHA256) from the token pepper, which is never
 * in the database (keys.ts). The endpoint id is the associated data, so a sealed secret copied to
 * another endpoint's row does not open. A database dump alone yields no secret.
 */
export class SecretBox {
  readonly #key: Buffer

  constructor(pepper: Buffer) {
    this.#key = Buffer.from(hkdfSync('sha256', pepper, Buffer.alloc(0), 'token-authority webhook secrets v1', 32))
  }

  seal(secret: string, endpointId: string): string {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv)
    cipher.setAAD(Buffer.from(endpointId))
    const ct = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()])
    return `v1.${Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64url')}`
  }

  open(sealed: string, endpointId: string): string {
    if (!sealed.startsWith('v1.')) throw new Error('unknown sealed secret version')
    const raw = Buffer.from(sealed.slice(3), 'base64url')
    const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, 12))
    decipher.setAAD(Buffer.from(endpointId))
    decipher.setAuthTag(raw.subarray(12, 28))
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')
  }
}

/** A new endpoint secret: `whsec_` + 256 bits from the CSPRNG. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`
}

/**
 * `v1=<hex HMAC-SHA256(secret, id + "." + timestamp + "." + body)>`: the Webhook-Signature header
 * (docs/webhooks.md). The event id is signed too: receivers deduplicate on it, so a replay under a
 * fresh id must not verify.
 */
export function signPayload(secret: string, id: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${id}.${timestamp}.${body}`).digest('hex')}`
}

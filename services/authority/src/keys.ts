import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ConfigError, parsePepper, parseSigningKeys, type Config, type SigningKey } from './config.js'

export interface Keys {
  signingKeys: readonly SigningKey[]
  pepper: Buffer
  /** true when the keys were generated into the data folder just now */
  generated: boolean
  file?: string
}

/**
 * Signing keys and pepper: from the environment (required with DATABASE_URL), or on the embedded
 * default from `<DATA_DIR>/keys.json`, generated once with mode 0600 so tokens survive restarts.
 */
export function resolveKeys(config: Config): Keys {
  if (config.signingKeys !== undefined && config.pepper !== undefined) {
    return { signingKeys: config.signingKeys, pepper: config.pepper, generated: false }
  }
  if (config.DATABASE_URL !== undefined)
    throw new ConfigError('TOKEN_SIGNING_KEYS and TOKEN_PEPPER are required when DATABASE_URL is set')
  const file = join(config.DATA_DIR, 'keys.json')
  if (existsSync(file)) {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { signing_keys: string; pepper: string }
    return {
      signingKeys: config.signingKeys ?? parseSigningKeys(stored.signing_keys),
      pepper: config.pepper ?? parsePepper(stored.pepper),
      generated: false,
      file
    }
  }
  mkdirSync(config.DATA_DIR, { recursive: true, mode: 0o700 })
  const stored = {
    signing_keys: `k${new Date().toISOString().slice(0, 10).replace(/-/g, '').slice(2)}:${randomBytes(32).toString('base64')}`,
    pepper: randomBytes(32).toString('base64')
  }
  writeFileSync(file, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600, flag: 'wx' })
  chmodSync(file, 0o600)
  return {
    signingKeys: config.signingKeys ?? parseSigningKeys(stored.signing_keys),
    pepper: config.pepper ?? parsePepper(stored.pepper),
    generated: true,
    file
  }
}

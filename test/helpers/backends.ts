import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { createConnection } from 'mysql2/promise'

/**
 * The backends every behaviour test runs on: the embedded default always, and real MySQL/MariaDB
 * + Redis when TEST_DATABASE_URL and TEST_REDIS_URL are set. Under CI they are required.
 */
export interface Backend {
  name: 'embedded' | 'mysql+redis'
  /** env overrides for this backend: its own database / data folder / Redis prefix */
  env: Record<string, string>
  /** dumps every stored byte (tables, SQLite file, Redis keys and values) for secret scans */
  dump(): Promise<string>
  cleanup(): Promise<void>
}

const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL
const TEST_REDIS_URL = process.env.TEST_REDIS_URL

let warned = false
export function serviceBackendsAvailable(): boolean {
  const available = TEST_DATABASE_URL !== undefined && TEST_DATABASE_URL !== '' && TEST_REDIS_URL !== undefined && TEST_REDIS_URL !== ''
  if (!available && process.env.CI) {
    throw new Error('CI is set but TEST_DATABASE_URL / TEST_REDIS_URL are not: the MySQL + Redis tests are required in CI')
  }
  if (!available && !warned) {
    warned = true
    process.stderr.write(
      '\n*** TEST_DATABASE_URL / TEST_REDIS_URL not set: SKIPPING the MySQL + Redis runs of the behaviour tests (embedded only) ***\n\n'
    )
  }
  return available
}

export const BACKEND_NAMES = (): Backend['name'][] => (serviceBackendsAvailable() ? ['embedded', 'mysql+redis'] : ['embedded'])

function uniqueName(): string {
  return `ta_t_${process.pid}_${randomBytes(4).toString('hex')}`
}

/** Visits every key under a prefix, a SCAN page at a time. */
async function eachRedisKey(url: string, prefix: string, fn: (redis: Redis, keys: string[]) => Promise<void>): Promise<void> {
  const redis = new Redis(url)
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
      cursor = next
      await fn(redis, keys)
    } while (cursor !== '0')
  } finally {
    await redis.quit()
  }
}

export async function createBackend(name: Backend['name']): Promise<Backend> {
  if (name === 'embedded') {
    const dir = mkdtempSync(join(tmpdir(), 'ta-test-'))
    return {
      name,
      env: { DATA_DIR: dir },
      dump: async () => {
        const { readdirSync, readFileSync } = await import('node:fs')
        return readdirSync(dir)
          .map((f) => readFileSync(join(dir, f)).toString('latin1'))
          .join('\n')
      },
      cleanup: async () => rmSync(dir, { recursive: true, force: true })
    }
  }
  const base = new URL(TEST_DATABASE_URL!)
  const dbName = uniqueName()
  const admin = await createConnection({ uri: TEST_DATABASE_URL! })
  await admin.query(`CREATE DATABASE \`${dbName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`)
  await admin.end()
  const url = new URL(base)
  url.pathname = `/${dbName}`
  const prefix = `${dbName}:`
  const redisUrl = TEST_REDIS_URL!
  const signing = `t1:${randomBytes(32).toString('base64')}`
  const pepper = randomBytes(32).toString('base64')
  const dataDir = mkdtempSync(join(tmpdir(), 'ta-test-'))
  return {
    name,
    env: {
      DATABASE_URL: url.toString(),
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: prefix,
      TOKEN_SIGNING_KEYS: signing,
      TOKEN_PEPPER: pepper,
      DATA_DIR: dataDir
    },
    dump: async () => {
      const conn = await createConnection({ uri: url.toString() })
      const out: string[] = []
      const [tables] = (await conn.query('SHOW TABLES')) as unknown as [Record<string, string>[]]
      for (const t of tables) {
        const table = Object.values(t)[0]!
        const [rows] = await conn.query(`SELECT * FROM \`${table}\``)
        out.push(JSON.stringify(rows))
      }
      await conn.end()
      await eachRedisKey(redisUrl, prefix, async (redis, keys) => {
        for (const k of keys) {
          const type = await redis.type(k)
          out.push(k, type === 'string' ? ((await redis.get(k)) ?? '') : JSON.stringify(await redis.hgetall(k)))
        }
      })
      return out.join('\n')
    },
    cleanup: async () => {
      const conn = await createConnection({ uri: TEST_DATABASE_URL! })
      await conn.query(`DROP DATABASE IF EXISTS \`${dbName}\``)
      await conn.end()
      await eachRedisKey(redisUrl, prefix, async (redis, keys) => {
        if (keys.length > 0) await redis.del(...keys)
      })
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
}

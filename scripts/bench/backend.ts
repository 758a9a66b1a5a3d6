import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { createConnection } from 'mysql2/promise'

/**
 * Where one bench run keeps its data: a private temp folder (embedded SQLite + in-process cache),
 * or a private MySQL database and Redis key prefix, created here and dropped in `cleanup`.
 */
export interface BenchBackend {
  name: 'embedded' | 'mysql+redis'
  /** authority env for this backend (DATA_DIR, DATABASE_URL, REDIS_URL, REDIS_KEY_PREFIX, keys) */
  env: Record<string, string>
  redisUrl?: string
  redisPrefix?: string
  cleanup(): Promise<void>
}

export interface ServiceUrls {
  databaseUrl: string
  redisUrl: string
}

/** BENCH_DATABASE_URL / BENCH_REDIS_URL, else TEST_DATABASE_URL / TEST_REDIS_URL; both or nothing. */
export function serviceUrlsFromEnv(env: NodeJS.ProcessEnv = process.env): ServiceUrls | undefined {
  const databaseUrl = env.BENCH_DATABASE_URL || env.TEST_DATABASE_URL
  const redisUrl = env.BENCH_REDIS_URL || env.TEST_REDIS_URL
  if (!databaseUrl || !redisUrl) return undefined
  return { databaseUrl, redisUrl }
}

function assertLoopback(url: string, what: string): void {
  const host = new URL(url).hostname
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) {
    throw new Error(`${what} must be on loopback for the benchmark (got ${host})`)
  }
}

/** Deletes every key under a prefix, a SCAN page at a time (bounded by the key count). */
export async function deleteRedisPrefix(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 2000 })
  let deleted = 0
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) deleted += await redis.unlink(...keys)
    } while (cursor !== '0')
  } finally {
    await redis.quit().catch(() => redis.disconnect())
  }
  return deleted
}

export async function createBenchBackend(name: BenchBackend['name'], urls?: ServiceUrls): Promise<BenchBackend> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ta-bench-'))
  if (name === 'embedded') {
    return { name, env: { DATA_DIR: dataDir }, cleanup: async () => rmSync(dataDir, { recursive: true, force: true }) }
  }
  if (urls === undefined)
    throw new Error('mysql+redis backend needs BENCH_/TEST_DATABASE_URL and BENCH_/TEST_REDIS_URL')
  assertLoopback(urls.databaseUrl, 'the database')
  assertLoopback(urls.redisUrl, 'Redis')
  const dbName = `ta_bench_${process.pid}_${randomBytes(3).toString('hex')}`
  const admin = await createConnection({ uri: urls.databaseUrl })
  try {
    await admin.query(`CREATE DATABASE \`${dbName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`)
  } finally {
    await admin.end()
  }
  const url = new URL(urls.databaseUrl)
  url.pathname = `/${dbName}`
  const prefix = `${dbName}:`
  return {
    name,
    env: {
      DATA_DIR: dataDir,
      DATABASE_URL: url.toString(),
      REDIS_URL: urls.redisUrl,
      REDIS_KEY_PREFIX: prefix,
      TOKEN_SIGNING_KEYS: `b1:${randomBytes(32).toString('base64')}`,
      TOKEN_PEPPER: randomBytes(32).toString('base64')
    },
    redisUrl: urls.redisUrl,
    redisPrefix: prefix,
    cleanup: async () => {
      const conn = await createConnection({ uri: urls.databaseUrl })
      try {
        await conn.query(`DROP DATABASE IF EXISTS \`${dbName}\``)
      } finally {
        await conn.end()
      }
      await deleteRedisPrefix(urls.redisUrl, prefix)
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
}

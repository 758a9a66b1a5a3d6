import { randomBytes } from 'node:crypto'
import {
  accessSync,
  constants,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import SqliteDatabase from 'better-sqlite3'
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
  /** the same as bytes: raw files as they are on disk, tables and Redis values as UTF-8 */
  dumpBytes(): Promise<Buffer>
  /** drops everything; under SECRET_SCAN_DIR it first writes dumpBytes() there for the suite-wide scan */
  cleanup(): Promise<void>
}

/**
 * The suite-wide secret scan (scripts/secret-scan.ts, run by `npm test`): when SECRET_SCAN_DIR is
 * set, every backend is dumped into it before it is dropped, and every test authority writes its
 * debug log and the secrets it saw (test/support/secret-scan-recording.ts). File names are unique per process.
 */
export const SECRET_SCAN_DIR =
  process.env.SECRET_SCAN_DIR !== undefined && process.env.SECRET_SCAN_DIR !== ''
    ? process.env.SECRET_SCAN_DIR
    : undefined
let scanFiles = 0
/** `<dir>/<pid>-<n>-<tag>`: the caller adds the extension */
export function secretScanPath(tag: string): string | undefined {
  if (SECRET_SCAN_DIR === undefined) return undefined
  scanFiles++
  return join(SECRET_SCAN_DIR, `${process.pid}-${scanFiles}-${tag.replace(/[^A-Za-z0-9_-]/g, '_')}`)
}
/** which test file this process runs (for the scan's report) */
export const TEST_FILE = (process.argv[1] ?? 'unknown').replace(`${process.cwd()}/`, '')

const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL
const TEST_REDIS_URL = process.env.TEST_REDIS_URL

let warned = false
export function serviceBackendsAvailable(): boolean {
  const available =
    TEST_DATABASE_URL !== undefined && TEST_DATABASE_URL !== '' && TEST_REDIS_URL !== undefined && TEST_REDIS_URL !== ''
  if (!available && process.env.CI) {
    throw new Error(
      'CI is set but TEST_DATABASE_URL / TEST_REDIS_URL are not: the MySQL + Redis tests are required in CI'
    )
  }
  if (!available && !warned) {
    warned = true
    process.stderr.write(
      '\n*** TEST_DATABASE_URL / TEST_REDIS_URL not set: SKIPPING the MySQL + Redis runs of the behaviour tests (embedded only) ***\n\n'
    )
  }
  return available
}

export const BACKEND_NAMES = (): Backend['name'][] =>
  serviceBackendsAvailable() ? ['embedded', 'mysql+redis'] : ['embedded']

/**
 * Where data folders go: a RAM-backed folder when the machine has one (/dev/shm), else the temp
 * folder. The embedded backend commits in WAL mode with full fsync; on a disk every commit (every
 * migration, login and token) waits for the device, which made a whole run largely I/O-bound.
 * What is stored, and how, is the same either way. TEST_DATA_ROOT overrides the choice.
 */
const DATA_ROOT = ((): string => {
  const given = process.env.TEST_DATA_ROOT
  if (given !== undefined && given !== '') return given
  try {
    accessSync('/dev/shm', constants.W_OK)
    if (statSync('/dev/shm').isDirectory()) return '/dev/shm'
  } catch {
    // no RAM-backed folder here
  }
  return tmpdir()
})()

function uniqueName(): string {
  return `ta_t_${process.pid}_${randomBytes(4).toString('hex')}`
}

/** Visits every key under a prefix, a SCAN page at a time. */
async function eachRedisKey(
  url: string,
  prefix: string,
  fn: (redis: Redis, keys: string[]) => Promise<void>
): Promise<void> {
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
    const dir = mkdtempSync(join(DATA_ROOT, 'ta-test-'))
    const dumpBytes = async () => Buffer.concat([dataDirBytes(dir), Buffer.from(sqliteRows(dir), 'utf8')])
    return withScanDump({
      name,
      env: { DATA_DIR: dir },
      dump: async () => (await dumpBytes()).toString('latin1'),
      dumpBytes,
      cleanup: async () => rmSync(dir, { recursive: true, force: true })
    })
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
  const dataDir = mkdtempSync(join(DATA_ROOT, 'ta-test-'))
  /** every table, every row, cells unescaped (so a stored secret matches byte for byte), then every Redis key and value */
  const dump = async (): Promise<string> => {
    const conn = await createConnection({ uri: url.toString() })
    const out: string[] = []
    try {
      const [tables] = (await conn.query('SHOW TABLES')) as unknown as [Record<string, string>[]]
      for (const t of tables) {
        const table = Object.values(t)[0]!
        const [rows] = (await conn.query(`SELECT * FROM \`${table}\``)) as unknown as [Record<string, unknown>[]]
        out.push(`# table ${table}`, ...rows.map(rowText))
      }
    } finally {
      await conn.end()
    }
    await eachRedisKey(redisUrl, prefix, async (redis, keys) => {
      for (const k of keys) out.push(k, await redisValue(redis, k))
    })
    return out.join('\n')
  }
  return withScanDump({
    name,
    env: {
      DATABASE_URL: url.toString(),
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: prefix,
      TOKEN_SIGNING_KEYS: signing,
      TOKEN_PEPPER: pepper,
      DATA_DIR: dataDir
    },
    dump,
    dumpBytes: async () => Buffer.concat([Buffer.from(await dump(), 'utf8'), dataDirBytes(dataDir)]),
    cleanup: async () => {
      const conn = await createConnection({ uri: TEST_DATABASE_URL! })
      await conn.query(`DROP DATABASE IF EXISTS \`${dbName}\``)
      await conn.end()
      await eachRedisKey(redisUrl, prefix, async (redis, keys) => {
        if (keys.length > 0) await redis.del(...keys)
      })
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
}

/** one row as `column=value` cells, values as stored (binary as UTF-8 when it is, else latin1) */
function rowText(row: Record<string, unknown>): string {
  return Object.entries(row)
    .map(([k, v]) => `${k}=${cellText(v)}`)
    .join('\t')
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return 'NULL'
  if (Buffer.isBuffer(v)) {
    const utf8 = v.toString('utf8')
    return Buffer.from(utf8, 'utf8').equals(v) ? utf8 : v.toString('latin1')
  }
  if (v instanceof Date) return v.toISOString()
  if (typeof v === 'object') return JSON.stringify(v)
  return String(v as string | number | bigint | boolean)
}

/** any Redis type, as text */
async function redisValue(redis: Redis, key: string): Promise<string> {
  const type = await redis.type(key)
  switch (type) {
    case 'string':
      return (await redis.get(key)) ?? ''
    case 'hash':
      return Object.entries(await redis.hgetall(key))
        .map(([f, v]) => `${f}=${v}`)
        .join('\t')
    case 'list':
      return (await redis.lrange(key, 0, -1)).join('\t')
    case 'set':
      return (await redis.smembers(key)).join('\t')
    case 'zset':
      return (await redis.zrange(key, 0, -1, 'WITHSCORES')).join('\t')
    case 'stream':
      return JSON.stringify(await redis.xrange(key, '-', '+'))
    default:
      return `(${type})`
  }
}

/** every file of a data folder, byte for byte (the SQLite file and its WAL, keys.json) */
function dataDirBytes(dir: string): Buffer {
  if (!existsSync(dir)) return Buffer.alloc(0)
  const parts: Buffer[] = []
  for (const f of readdirSync(dir)) {
    const file = join(dir, f)
    if (statSync(file).isFile()) parts.push(readFileSync(file), Buffer.from('\n'))
  }
  return Buffer.concat(parts)
}

/** every table of every SQLite file in a data folder, through SQL (values split across pages on disk are whole here) */
function sqliteRows(dir: string): string {
  if (!existsSync(dir)) return ''
  const out: string[] = []
  for (const f of readdirSync(dir)) {
    const file = join(dir, f)
    if (
      !statSync(file).isFile() ||
      !readFileSync(file).subarray(0, 16).equals(Buffer.from('SQLite format 3\0', 'latin1'))
    )
      continue
    let db: SqliteDatabase.Database
    try {
      db = new SqliteDatabase(file, { readonly: true, fileMustExist: true })
    } catch {
      // a WAL database without its -shm file may refuse a read-only open; the folder is ours
      db = new SqliteDatabase(file, { fileMustExist: true })
    }
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]
      for (const { name } of tables) {
        out.push(
          `# table ${name}`,
          ...(db.prepare(`SELECT * FROM "${name.replace(/"/g, '""')}"`).all() as Record<string, unknown>[]).map(rowText)
        )
      }
    } finally {
      db.close()
    }
  }
  return out.join('\n')
}

/**
 * Under SECRET_SCAN_DIR, cleanup() first writes the backend's dump there (once; a dump that fails,
 * e.g. a database a fault test left unreachable, is recorded as such and never blocks the cleanup).
 */
function withScanDump(backend: Backend): Backend {
  if (SECRET_SCAN_DIR === undefined) return backend
  let dumped = false
  const cleanup = backend.cleanup
  return {
    ...backend,
    cleanup: async () => {
      if (!dumped) {
        dumped = true
        const path = secretScanPath(backend.name === 'embedded' ? 'embedded' : 'mysql-redis')!
        try {
          const bytes = await backend.dumpBytes()
          writeFileSync(
            `${path}.dump`,
            Buffer.concat([Buffer.from(`# secret-scan dump: ${backend.name} backend of ${TEST_FILE}\n`), bytes]),
            { mode: 0o600 }
          )
        } catch (err) {
          writeFileSync(`${path}.dump-error`, `${backend.name} backend of ${TEST_FILE}: ${(err as Error).message}\n`, {
            mode: 0o600
          })
        }
      }
      await cleanup()
    }
  }
}

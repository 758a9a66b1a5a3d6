import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import SqliteDatabase from 'better-sqlite3'
import { Kysely, MysqlDialect, SqliteDialect, sql, type SqliteDialectConfig } from 'kysely'
import { LRUCache } from 'lru-cache'
import { createPool } from 'mysql2'
import type { Config } from '../config.js'
import type { Database } from './tables.js'

export interface DatabaseHandle {
  /** the primary: every write, and every read that decides whether a token is active */
  db: Kysely<Database>
  /**
   * Lists only (token lists, account lists): a read replica when DATABASE_READ_URL is set, else the
   * primary. A replica may lag: nothing read here may grant access or decide a change.
   */
  readDb: Kysely<Database>
  dialect: 'mysql' | 'sqlite'
  /** where the embedded database lives (sqlite only) */
  file?: string
  ping(): Promise<void>
  close(): Promise<void>
  /** MySQL pool occupancy (null for SQLite: one connection, no pool) */
  poolStats(): { open: number; idle: number; queued: number; limit: number } | null
}

export type DatabaseConfig = Pick<
  Config,
  'DATABASE_URL' | 'DATA_DIR' | 'DB_POOL_SIZE' | 'DB_QUEUE_LIMIT' | 'DB_CONNECT_TIMEOUT_MS' | 'DB_QUERY_TIMEOUT_MS'
> &
  Partial<Pick<Config, 'DATABASE_READ_URL'>>

export function sqliteFile(config: Pick<Config, 'DATA_DIR'>): string {
  return resolve(join(config.DATA_DIR, 'authority.sqlite'))
}

/** Opens the pool once per process: MySQL when DATABASE_URL is set, else the embedded SQLite file. */
export function openDatabase(config: DatabaseConfig): DatabaseHandle {
  if (config.DATABASE_URL !== undefined) {
    const primary = openMysqlPool(config.DATABASE_URL, config)
    const replica = config.DATABASE_READ_URL === undefined ? undefined : openMysqlPool(config.DATABASE_READ_URL, config)
    const db = primary.db
    return {
      db,
      readDb: replica?.db ?? db,
      dialect: 'mysql',
      ping: async () => {
        await sql`select 1`.execute(db)
      },
      // a connection still mid-handshake with an unreachable server makes the pool's end reject:
      // closing must still complete (shutdown is not the place to report it)
      close: async () => {
        await Promise.all([db.destroy().catch(() => undefined), replica?.db.destroy().catch(() => undefined)])
      },
      poolStats: primary.stats
    }
  }
  mkdirSync(config.DATA_DIR, { recursive: true, mode: 0o700 })
  const file = sqliteFile(config)
  const sqlite = new SqliteDatabase(file)
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('busy_timeout = 5000')
  sqlite.pragma('foreign_keys = ON')
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) })
  return {
    db,
    readDb: db,
    dialect: 'sqlite',
    file,
    ping: async () => {
      await sql`select 1`.execute(db)
    },
    close: () => db.destroy(),
    poolStats: () => null
  }
}

/** A MySQL pool (the primary, or the read replica) with the session settings every connection needs. */
function openMysqlPool(
  uri: string,
  config: DatabaseConfig
): { db: Kysely<Database>; stats: () => { open: number; idle: number; queued: number; limit: number } } {
  const pool = createPool({
    uri,
    connectionLimit: config.DB_POOL_SIZE,
    // A bounded wait queue: past it mysql2 fails fast instead of queueing without end.
    queueLimit: config.DB_QUEUE_LIMIT,
    connectTimeout: config.DB_CONNECT_TIMEOUT_MS,
    enableKeepAlive: true,
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: false,
    charset: 'utf8mb4'
  })
  // A row lock waits less than our own timeout, so a change we gave up on (503) rolls back
  // instead of committing behind the caller's back.
  const lockWaitSeconds = Math.max(1, Math.floor(config.DB_QUERY_TIMEOUT_MS / 1000) - 1)
  pool.on('connection', (conn) => {
    conn.query(`SET SESSION innodb_lock_wait_timeout = ${lockWaitSeconds}`)
    // The final-disable and password guarantees rest on INSERT … SELECT taking a shared lock on the
    // account row, which InnoDB does under REPEATABLE READ: pin it, whatever the server's default.
    conn.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ')
  })
  return {
    db: new Kysely<Database>({ dialect: new MysqlDialect({ pool }) }),
    stats: () => {
      // mysql2 exposes no public counters; these fields are stable across its 3.x releases.
      const internal = pool as unknown as {
        _allConnections?: { length: number }
        _freeConnections?: { length: number }
        _connectionQueue?: { length: number }
      }
      return {
        open: internal._allConnections?.length ?? 0,
        idle: internal._freeConnections?.length ?? 0,
        queued: internal._connectionQueue?.length ?? 0,
        limit: config.DB_POOL_SIZE
      }
    }
  }
}

/**
 * Kysely prepares every query afresh; SQLite statements are reusable, and preparing costs more
 * than running the token lookup itself. Keeps the most recent prepared statements by SQL text
 * (bounded: queries with inlined lists make many texts). Safe because better-sqlite3 runs a
 * statement synchronously to completion and Kysely does not stream here.
 */
function withStatementCache(sqlite: SqliteDatabase.Database, max = 256): SqliteDialectConfig['database'] {
  const statements = new LRUCache<string, SqliteDatabase.Statement>({ max })
  return {
    close: () => {
      statements.clear()
      sqlite.close()
    },
    prepare: (text: string) => {
      let statement = statements.get(text)
      if (statement === undefined) {
        statement = sqlite.prepare(text)
        statements.set(text, statement)
      }
      return statement
    }
  }
}

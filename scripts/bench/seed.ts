import { randomBytes, randomUUID } from 'node:crypto'
import bcrypt from 'bcrypt'
import { sql, type Kysely } from 'kysely'
import type { SigningKey } from '../../services/authority/src/config.js'
import type { AccountRow, Database } from '../../services/authority/src/db/tables.js'
import { encodeToken, hashToken } from '../../services/authority/src/tokens/token-format.js'
import type { TokenOwnRow } from '../../services/authority/src/tokens/token.js'

/**
 * Bulk seeding straight into the tables, in batches, with rows shaped exactly as the service
 * writes them (TokenService.createToken / AccountService.create): values from encodeToken with
 * the app's first signing key, `hash` = hex HMAC(pepper, value), scopes as sorted JSON. No audit
 * rows (introspection never reads them). Only the values asked for are kept in memory.
 */

export interface SeedOptions {
  db: Kysely<Database>
  dialect: 'mysql' | 'sqlite'
  prefix: string
  signingKey: SigningKey
  pepper: Buffer
  /** how many tokens */
  count: number
  /** owner account ids (round-robin) */
  owners: readonly string[]
  /** whether to keep token i's value (index within this call) */
  keep: (i: number) => boolean
  label: string
  /** progress lines go here (stderr) */
  progress?: (line: string, done: boolean) => void
}

export interface SeededToken {
  id: string
  value: string
  exp: number | null
}

const DAY = 86400

/** Inserts `count` customer accounts (one bcrypt hash, computed once at `cost`, shared). */
export async function seedOwners(db: Kysely<Database>, count: number, cost: number, label: string): Promise<string[]> {
  const hash = await bcrypt.hash(`seed-owner-${randomBytes(8).toString('hex')}`, cost)
  const now = Date.now()
  const ids: string[] = []
  const BATCH = 1000
  for (let start = 0; start < count; start += BATCH) {
    const rows: AccountRow[] = []
    for (let i = start; i < Math.min(count, start + BATCH); i++) {
      const id = randomUUID()
      ids.push(id)
      rows.push({
        id,
        username: `${label}-owner-${i}`,
        kind: 'customer',
        password_hash: hash,
        permissions: JSON.stringify(['orders:read', 'tokens:read']),
        token_generation: 0,
        tokens_revoked_before: null,
        disabled: 0,
        created_at: now,
        updated_at: now
      })
    }
    await db.insertInto('accounts').values(rows).execute()
  }
  return ids
}

export async function seedTokens(o: SeedOptions): Promise<{ kept: SeededToken[]; seconds: number }> {
  // 18 columns: SQLite allows 32766 bound values per statement, MySQL 65535.
  const BATCH = o.dialect === 'sqlite' ? 1800 : 2500
  // MySQL: a few inserts in flight while the next batch is built; SQLite is synchronous anyway.
  const IN_FLIGHT = o.dialect === 'mysql' ? 4 : 1
  // SQLite: several batches per transaction (one WAL commit each)
  const PER_TX = o.dialect === 'sqlite' ? 10 : 1
  const started = performance.now()
  const now = Date.now()
  const nowSec = Math.floor(now / 1000)
  const kept: SeededToken[] = []
  const scopeSets = [JSON.stringify(['orders:read']), JSON.stringify(['orders:read', 'tokens:read'])]
  let lastReport = 0
  let written = 0
  const report = (done: boolean) => {
    const t = performance.now()
    if (!done && t - lastReport < 500) return
    lastReport = t
    const secs = (t - started) / 1000
    const rate = written / Math.max(secs, 0.001)
    const pct = ((written / o.count) * 100).toFixed(1)
    const eta = done ? '' : `, ~${Math.ceil((o.count - written) / Math.max(rate, 1))} s left`
    o.progress?.(
      `seeding ${o.label}: ${written.toLocaleString('en')}/${o.count.toLocaleString('en')} tokens (${pct}%, ${Math.round(rate).toLocaleString('en')} rows/s${eta})`,
      done
    )
  }

  // Random ids, as newTokenId() makes them, inserted in key order: appending to the primary-key
  // B-tree instead of splitting random pages keeps 1M rows to about a minute on MySQL with a
  // 128 MB buffer pool (the rows are the same; the pages end up as full as after a dump restore).
  const idBytes = randomBytes(o.count * 16)
  const ids: string[] = new Array<string>(o.count)
  for (let i = 0; i < o.count; i++) ids[i] = idBytes.subarray(i * 16, i * 16 + 16).toString('base64url')
  ids.sort()

  const build = (start: number, end: number): TokenOwnRow[] => {
    // one CSPRNG call per batch for the 32-byte secrets
    const rand = randomBytes((end - start) * 32)
    const rows: TokenOwnRow[] = []
    for (let i = start; i < end; i++) {
      const r = (i - start) * 32
      const id = ids[i]!
      // half never expire (the PAT default), half expire in 30–120 days
      const exp = i % 2 === 0 ? null : nowSec + 30 * DAY + (i % (90 * DAY))
      const value = encodeToken(o.prefix, 'pat', o.signingKey, id, exp, rand.subarray(r, r + 32))
      if (o.keep(i)) kept.push({ id, value, exp })
      rows.push({
        id,
        // contiguous runs per owner: the (account_id, created_at, id) index grows at a few points
        // per batch instead of at every row
        account_id: o.owners[Math.floor((i * o.owners.length) / o.count)]!,
        kind: 'pat',
        name: `seed ${i}`,
        description: '',
        scopes: scopeSets[i % 2]!,
        preset: null,
        hash: hashToken(o.pepper, value).toString('hex'),
        kid: o.signingKey.kid,
        created_at: now,
        expires_at: exp === null ? null : exp * 1000,
        revoked_at: null,
        revoked_reason: null,
        audience: null,
        parent_id: null,
        replaced_by: null,
        rotation_ends_at: null,
        supersedes_until: null
      })
    }
    return rows
  }

  if (o.dialect === 'sqlite') {
    // a bigger page cache on the (shared) connection while seeding, restored afterwards
    const before = await sql<{ cache_size: number }>`PRAGMA cache_size`.execute(o.db)
    await sql`PRAGMA cache_size = -262144`.execute(o.db)
    try {
      await insertSqlite()
    } finally {
      await sql.raw(`PRAGMA cache_size = ${Number(before.rows[0]?.cache_size ?? -16000)}`).execute(o.db)
    }
  } else {
    await insertMysql()
  }
  report(true)
  return { kept, seconds: (performance.now() - started) / 1000 }

  async function insertSqlite(): Promise<void> {
    for (let start = 0; start < o.count; start += BATCH * PER_TX) {
      const end = Math.min(o.count, start + BATCH * PER_TX)
      await o.db.transaction().execute(async (trx) => {
        for (let s = start; s < end; s += BATCH) {
          const rows = build(s, Math.min(end, s + BATCH))
          await trx.insertInto('tokens').values(rows).execute()
          written += rows.length
        }
      })
      report(false)
    }
  }

  async function insertMysql(): Promise<void> {
    const inflight = new Set<Promise<void>>()
    for (let start = 0; start < o.count; start += BATCH) {
      const rows = build(start, Math.min(o.count, start + BATCH))
      const p: Promise<void> = o.db
        .insertInto('tokens')
        .values(rows)
        .execute()
        .then(() => {
          written += rows.length
          inflight.delete(p)
          report(false)
        })
      p.catch(() => {}) // observed through Promise.race / Promise.all below
      inflight.add(p)
      if (inflight.size >= IN_FLIGHT) await Promise.race(inflight)
    }
    await Promise.all(inflight)
  }
}

#!/usr/bin/env node
/**
 * Operator CLI: authority-cli <command> [options] [--json]
 *
 *   migrate up|down|status          apply, roll back one, or list migrations
 *   create-admin --username NAME    create the first admin; prints a one-time password
 *                [--password-stdin] read the password from stdin instead
 *   revoke-token ID                 revoke one token by its public id
 *   revoke-account ID|USERNAME      revoke every live token of an account
 *   grant ID|USERNAME SCOPE...      add permissions to an account (how new EXTRA_SCOPES reach admins:
 *                                   through the API nobody grants what their own credential lacks)
 *   prune                           delete expired/revoked rows past the retention window now
 *
 * Exit codes: 0 done, 1 failed, 2 usage or configuration error.
 */
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import type { Kysely } from 'kysely'
import type { Database } from '../services/authority/src/db/tables.js'
import { buildApp } from '../services/authority/src/app.js'
import { normalizeUsername } from '../services/authority/src/accounts/account-service.js'
import { ConfigError, loadConfig } from '../services/authority/src/config.js'
import { openDatabase } from '../services/authority/src/db/database.js'
import { migrateDown, migrateToLatest, migrationStatus } from '../services/authority/src/db/migrations.js'
import { pruneNow } from '../services/authority/src/jobs/prune-job.js'
import { resolveKeys } from '../services/authority/src/keys.js'
import { systemClock } from '../services/authority/src/clock.js'

class UsageError extends Error {}

async function findAccountId(db: Kysely<Database>, idOrUsername: string): Promise<string> {
  const acct = await db
    .selectFrom('accounts')
    .select('id')
    .where((eb) => eb.or([eb('id', '=', idOrUsername), eb('username', '=', normalizeUsername(idOrUsername))]))
    .executeTakeFirst()
  if (acct === undefined) throw new Error(`no account ${idOrUsername}`)
  return acct.id
}

const USAGE = `usage: authority-cli <migrate up|down|status | create-admin --username NAME [--password-stdin] | revoke-token ID | revoke-account ID|USERNAME | grant ID|USERNAME SCOPE... | prune> [--json]`

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
}

async function run(argv: string[]): Promise<{ human: string; data: unknown }> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { json: { type: 'boolean' }, username: { type: 'string' }, 'password-stdin': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }
  })
  const [command, arg] = positionals
  if (values.help || command === undefined) throw new UsageError(USAGE)
  const config = loadConfig(process.env)
  const database = openDatabase(config)
  try {
    if (command === 'migrate') {
      if (arg === 'up') {
        const applied = await migrateToLatest(database.db)
        return { human: applied.length ? `applied ${applied.join(', ')}` : 'already up to date', data: { applied } }
      }
      if (arg === 'down') {
        const reverted = await migrateDown(database.db)
        return { human: reverted.length ? `reverted ${reverted.join(', ')}` : 'nothing to revert', data: { reverted } }
      }
      if (arg === 'status') {
        const list = await migrationStatus(database.db)
        return {
          human: list.map((m) => `${m.executedAt ? 'applied' : 'pending'}  ${m.name}`).join('\n'),
          data: { migrations: list.map((m) => ({ name: m.name, applied_at: m.executedAt?.toISOString() ?? null })) }
        }
      }
      throw new UsageError('usage: authority-cli migrate up|down|status')
    }
    if (command === 'prune') {
      const pruned = await pruneNow(database.db, systemClock, config.PRUNE_RETENTION_DAYS * 86400_000)
      return { human: `pruned ${pruned} token rows`, data: { pruned } }
    }

    // The rest go through the services, so caches are invalidated like any API change.
    if (database.dialect === 'sqlite') await migrateToLatest(database.db)
    const keys = resolveKeys(config)
    const app = await buildApp({ ...config, PRUNE_INTERVAL_SECONDS: 0 }, {
      database,
      signingKeys: keys.signingKeys,
      pepper: keys.pepper,
      logger: { level: 'warn' }
    })
    const actor = { accountId: null, tokenId: null, ip: 'cli' }
    try {
      const { accounts, tokens } = app.authority
      if (command === 'create-admin') {
        if (values.username === undefined) throw new UsageError('usage: authority-cli create-admin --username NAME [--password-stdin]')
        const given = values['password-stdin'] ? await readStdin() : undefined
        const password = given ?? randomBytes(18).toString('base64url')
        const account = await accounts.create({ username: values.username, password, kind: 'admin' }, null, actor)
        const data = { id: account.id, username: account.username, ...(given === undefined ? { password } : {}) }
        return {
          human:
            `created admin ${account.username} (${account.id})` +
            (given === undefined ? `\none-time password (shown once, change it): ${password}` : ''),
          data
        }
      }
      if (command === 'revoke-token') {
        if (arg === undefined) throw new UsageError('usage: authority-cli revoke-token ID')
        const row = await tokens.db.selectFrom('tokens').select('account_id').where('id', '=', arg).executeTakeFirst()
        if (row === undefined) throw new Error(`no token ${arg}`)
        const r = await tokens.revoke(row.account_id, [arg], 'revoked', actor)
        return { human: r.revoked.length ? `revoked ${arg}` : `${arg} was already inactive`, data: { revoked: r.revoked } }
      }
      if (command === 'grant') {
        const scopes = positionals.slice(2)
        if (arg === undefined || scopes.length === 0) throw new UsageError('usage: authority-cli grant ID|USERNAME SCOPE...')
        const id = await findAccountId(tokens.db, arg)
        const current = await accounts.get(id)
        const updated = await accounts.update(id, { permissions: [...new Set([...current.permissions, ...scopes])] }, null, actor)
        return { human: `${updated.username} now holds ${updated.permissions.join(' ')}`, data: { permissions: updated.permissions } }
      }
      if (command === 'revoke-account') {
        if (arg === undefined) throw new UsageError('usage: authority-cli revoke-account ID|USERNAME')
        const r = await tokens.revoke(await findAccountId(tokens.db, arg), null, 'revoked', actor)
        return { human: `revoked ${r.revoked.length} tokens`, data: { revoked: r.revoked } }
      }
      throw new UsageError(USAGE)
    } finally {
      await app.close()
    }
  } finally {
    await database.close()
  }
}

const json = process.argv.includes('--json')
run(process.argv.slice(2)).then(
  ({ human, data }) => {
    process.stdout.write((json ? JSON.stringify({ ok: true, ...(data as object) }) : human) + '\n')
  },
  (err: Error) => {
    const usage = err instanceof UsageError || err instanceof ConfigError || (err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
    process.stderr.write((json ? JSON.stringify({ ok: false, error: err.message }) : `authority-cli: ${err.message}`) + '\n')
    process.exitCode = usage ? 2 : 1
  }
)

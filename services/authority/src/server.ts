import closeWithGrace from 'close-with-grace'
import { buildApp, loggerOptions } from './app.js'
import { ConfigError, loadConfig } from './config.js'
import { openDatabase } from './db/database.js'
import { migrateToLatest, migrationStatus } from './db/migrations.js'
import { resolveKeys } from './keys.js'

/** The only place that listens. */
async function main(): Promise<void> {
  const config = loadConfig(process.env)
  const keys = resolveKeys(config)
  const database = openDatabase(config)
  const embedded = database.dialect === 'sqlite'

  if (embedded) {
    // The embedded default migrates by itself, so a newcomer needs no extra step.
    await migrateToLatest(database.db)
  } else {
    const pending = (await migrationStatus(database.db)).filter((m) => m.executedAt === null)
    if (pending.length > 0) {
      throw new ConfigError(`the database needs migrating (${pending.map((m) => m.name).join(', ')}): run "authority-cli migrate up" (or the migration Job) first`)
    }
  }

  const app = await buildApp(config, { database, signingKeys: keys.signingKeys, pepper: keys.pepper, logger: loggerOptions(config) })
  app.addHook('onClose', async () => database.close())
  if (keys.generated) app.log.warn({ file: keys.file }, 'generated signing keys and pepper for the embedded default (keep this file private)')

  if (config.BOOTSTRAP_ADMIN_USERNAME !== undefined && config.BOOTSTRAP_ADMIN_PASSWORD !== undefined) {
    const created = await app.authority.accounts.ensureFirstAdmin(config.BOOTSTRAP_ADMIN_USERNAME, config.BOOTSTRAP_ADMIN_PASSWORD)
    if (created) app.log.info({ username: created.username }, 'created the first admin from BOOTSTRAP_ADMIN_USERNAME')
  }

  // SIGTERM: readiness turns 503 at once; we keep serving for SHUTDOWN_DELAY_MS while the
  // endpoints controller takes us out of rotation, then stop accepting, let in-flight requests
  // finish and close the pools. A second signal, or the deadline, forces the exit.
  closeWithGrace({ delay: config.SHUTDOWN_DELAY_MS + 10_000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error')
    else app.log.info({ signal, delayMs: config.SHUTDOWN_DELAY_MS }, 'shutting down: readiness off, draining')
    app.markShuttingDown()
    if (!err) await new Promise((resolve) => setTimeout(resolve, config.SHUTDOWN_DELAY_MS))
    await app.close()
  })

  const address = await app.listen({ port: config.PORT, host: config.HOST })
  const hasAdmin = await database.db.selectFrom('accounts').select('id').where('kind', '=', 'admin').limit(1).executeTakeFirst()
  const lines = [
    `token authority listening on ${address} (${embedded ? `embedded SQLite at ${database.file}, in-process cache` : 'MySQL'}${config.REDIS_URL ? ' + Redis' : ''})`
  ]
  if (!hasAdmin) {
    lines.push(
      'no admin account yet. Create the first one (prints a one-time password):',
      '  npm run create-admin -- --username admin',
      'or start with BOOTSTRAP_ADMIN_USERNAME and BOOTSTRAP_ADMIN_PASSWORD set.'
    )
  }
  // stdout, not the log: a human-readable hint for whoever started the process.
  process.stdout.write(lines.join('\n') + '\n')
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`token authority: ${err.message}\n`)
    process.exit(78) // EX_CONFIG
  }
  process.stderr.write(`token authority failed to start: ${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})

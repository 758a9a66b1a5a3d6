import { existsSync } from 'node:fs'
import { join } from 'node:path'
import closeWithGrace from 'close-with-grace'
import { anyAdminExists } from './accounts/account.repository.js'
import { bootApp } from './boot.js'
import { ConfigError, loadConfig } from './config.js'
import { serveMetrics, type MetricsListener } from './metrics.js'

/** The console's address for a person: a wildcard listen address becomes localhost. */
function consoleUrl(address: string): string {
  const url = new URL(address)
  if (url.hostname === '0.0.0.0' || url.hostname === '[::]') url.hostname = 'localhost'
  url.pathname = '/console/'
  return url.href
}

/** The only place that listens. */
async function main(): Promise<void> {
  const config = loadConfig(process.env)
  // the embedded default migrates by itself (a newcomer needs no extra step); MySQL must be current
  const { app, booted } = await bootApp(config, { migrate: 'check' })
  const { keys, database } = booted
  const embedded = database.dialect === 'sqlite'
  if (keys.generated)
    app.log.warn(
      { file: keys.file },
      'generated signing keys and pepper for the embedded default (keep this file private)'
    )

  if (config.BOOTSTRAP_ADMIN_USERNAME !== undefined && config.BOOTSTRAP_ADMIN_PASSWORD !== undefined) {
    const created = await app.authority.accounts.ensureFirstAdmin(
      config.BOOTSTRAP_ADMIN_USERNAME,
      config.BOOTSTRAP_ADMIN_PASSWORD
    )
    if (created) app.log.info({ username: created.username }, 'created the first admin from BOOTSTRAP_ADMIN_USERNAME')
  }

  // SIGTERM (what Kubernetes, Docker and systemd send): readiness turns 503 at once; we keep
  // serving for SHUTDOWN_DELAY_MS while the endpoints controller takes us out of rotation, then stop
  // accepting, let in-flight requests finish and close the pools. SIGINT (Ctrl-C in a terminal)
  // skips the delay: nothing routes to a terminal, so it drains and exits at once. A second
  // signal, or the deadline, forces the exit.
  closeWithGrace({ delay: config.SHUTDOWN_DELAY_MS + 10_000 }, async ({ signal, err }) => {
    const delayMs = err || signal === 'SIGINT' ? 0 : config.SHUTDOWN_DELAY_MS
    if (err) app.log.error({ err }, 'shutting down after an error')
    else app.log.info({ signal, delayMs }, 'shutting down: readiness off, draining')
    app.markShuttingDown()
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs))
    await app.close()
  })

  // Metrics on their own port (never the API's), up before the API so a taken port stops the start.
  let metrics: MetricsListener | undefined
  if (config.METRICS_PORT > 0) {
    const host = config.METRICS_HOST ?? config.HOST
    const listener = await serveMetrics(app.authority.metrics.registry, { host, port: config.METRICS_PORT }).catch(
      (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EADDRINUSE') throw err
        throw new ConfigError(
          `METRICS_PORT ${config.METRICS_PORT} on ${host} is in use: set another METRICS_PORT, or 0 to turn the metrics listener off`
        )
      }
    )
    metrics = listener
    // closed last: a scrape during the drain still sees the final counts
    app.addHook('onClose', async () => listener.close())
  }

  const address = await app.listen({ port: config.PORT, host: config.HOST })
  const hasAdmin = await anyAdminExists(database.db)
  const lines = [
    `token authority listening on ${address} (${embedded ? `embedded SQLite at ${database.file}, in-process cache` : 'MySQL'}${config.redis ? ` + Redis (${config.redis.mode})` : ''})`
  ]
  lines.push(
    existsSync(join(config.consoleDir, 'index.html'))
      ? `token console: ${consoleUrl(address)}`
      : `token console not built (no ${config.consoleDir}/index.html): run npm run build, then open ${consoleUrl(address)}`
  )
  lines.push(metrics ? `metrics on ${metrics.url}` : 'metrics off (METRICS_PORT=0)')
  if (!hasAdmin) {
    lines.push(
      'no admin account yet. Create the first one (prints a one-time password):',
      '  npm run create-admin -- --username admin',
      'or start with BOOTSTRAP_ADMIN_USERNAME and BOOTSTRAP_ADMIN_PASSWORD set.'
    )
  }
  // stdout, not the log: a human-readable hint for whoever started the process.
  process.stdout.write(`${lines.join('\n')}\n`)
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`token authority: ${err.message}\n`)
    process.exit(78) // EX_CONFIG
  }
  process.stderr.write(`token authority failed to start: ${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})

/**
 * npm run bench:capacity -- [--tokens N] [--cached N] [--consumers 0,10,50,100] [--events N] [--rounds N]
 *
 * The per-token and per-consumer figures of docs/capacity.md, on private servers of its own (one
 * mariadbd, one redis-server on free loopback ports, temporary data folders; nothing shared is
 * touched):
 *   - database rows and bytes per token: N tokens seeded as the service writes them, then
 *     ANALYZE TABLE and information_schema (data_length + index_length) / rows; and the audit and
 *     revocation-log rows a create and a revoke add, made through the services;
 *   - Redis memory per cached token: MEMORY USAGE of real cache entries (filled by introspection),
 *     and the used_memory growth over them;
 *   - the revocation stream's fan-out: server CPU per event per SSE consumer, with C consumers in a
 *     child process (their parsing is not counted) while events are appended.
 * Introspection throughput and CPU per request come from `npm run bench` (see docs/capacity.md).
 * Prints one JSON object; medians over --rounds where a figure is timed.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { sql } from 'kysely'
import { Redis } from 'ioredis'
import { bootApp } from '../../services/authority/src/boot.js'
import type { Actor } from '../../services/authority/src/audit/audit.repository.js'
import { loadConfig } from '../../services/authority/src/config.js'
import { hasBinary, startMariaDb, startRedisNode } from '../private-servers.js'
import { seedOwners, seedTokens } from './seed.js'

const OPERATOR: Actor = { accountId: null, tokenId: null, ip: null }

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback
}
const TOKENS = Number(arg('tokens', '100000'))
const CACHED = Number(arg('cached', '5000'))
const CONSUMERS = arg('consumers', '0,10,50,100').split(',').map(Number)
const EVENTS = Number(arg('events', '200'))
const ROUNDS = Number(arg('rounds', '3'))
const log = (line: string) => process.stderr.write(`capacity: ${line}\n`)
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? 0 : (s[Math.floor((s.length - 1) / 2)]! + s[Math.ceil((s.length - 1) / 2)]!) / 2
}

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(
    'usage: npm run bench:capacity -- [--tokens N=100000] [--cached N=5000] [--consumers 0,10,50,100] [--events N=200] [--rounds N=3]\n'
  )
  process.exit(0)
}
for (const bin of ['mariadbd', 'mariadb-install-db', 'redis-server']) {
  if (!hasBinary(bin)) {
    process.stderr.write(`capacity: ${bin} is not installed; nothing measured\n`)
    process.exit(1)
  }
}

const maria = await startMariaDb()
const redisNode = await startRedisNode()
const redis = new Redis({ host: '127.0.0.1', port: redisNode.port })
try {
  const config = loadConfig({
    DATABASE_URL: maria.url,
    REDIS_URL: `redis://127.0.0.1:${redisNode.port}`,
    TOKEN_SIGNING_KEYS: `c1:${randomBytes(32).toString('base64')}`,
    TOKEN_PEPPER: randomBytes(32).toString('base64'),
    BCRYPT_COST: '4',
    LOG_LEVEL: 'warn',
    PRUNE_INTERVAL_SECONDS: '0',
    LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
    EXTRA_SCOPES: 'orders:read=Read orders',
    DATA_DIR: maria.dir
  })
  const { app, booted } = await bootApp(config, { migrate: 'latest' })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  const { accounts, tokens } = app.authority
  const db = booted.database.db
  const service = await accounts.create(
    {
      username: 'capacity-gateway',
      password: 'capacity-gateway-password-1',
      kind: 'service',
      permissions: ['tokens:introspect', 'tokens:revocations', 'tokens:revoke']
    },
    null,
    OPERATOR
  )
  const svc = await tokens.createToken(
    service,
    { name: 'gateway', scopes: ['tokens:introspect', 'tokens:revocations', 'tokens:revoke'] },
    null,
    OPERATOR
  )
  const owner = await accounts.create(
    {
      username: 'capacity-owner',
      password: 'capacity-owner-password-1',
      kind: 'customer',
      permissions: ['orders:read']
    },
    null,
    OPERATOR
  )

  // ------------------------------------------------------------ database bytes per token
  const tableSizes = async () => {
    await sql`ANALYZE TABLE tokens, audit_events, revocation_events`.execute(db)
    const { rows } = await sql<{ name: string; rows: number; data: number; index: number }>`
      SELECT TABLE_NAME AS name, TABLE_ROWS AS \`rows\`, DATA_LENGTH AS data, INDEX_LENGTH AS \`index\`
      FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()`.execute(db)
    return Object.fromEntries(rows.map((r) => [r.name, r]))
  }
  const exact = async (table: 'tokens' | 'audit_events' | 'revocation_events') =>
    Number(
      (
        await db
          .selectFrom(table)
          .select((e) => e.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n
    )
  const before = await tableSizes()
  log(`seeding ${TOKENS} tokens`)
  const owners = await seedOwners(db, 100, 4, 'cap')
  const { kept } = await seedTokens({
    db,
    dialect: 'mysql',
    prefix: config.TOKEN_PREFIX,
    signingKey: config.signingKeys![0]!,
    pepper: config.pepper!,
    count: TOKENS,
    owners,
    keep: (i) => i < CACHED,
    label: 'capacity'
  })
  const afterSeed = await tableSizes()
  const tokenRows = await exact('tokens')
  const tokenBytes =
    Number(afterSeed.tokens!.data) +
    Number(afterSeed.tokens!.index) -
    Number(before.tokens!.data) -
    Number(before.tokens!.index)

  // audit and revocation-log rows per create and per revoke, through the services
  const n = 500
  const auditBefore = await exact('audit_events')
  const made: string[] = []
  for (let i = 0; i < n; i++) {
    made.push((await tokens.createToken(owner, { name: `c${i}`, scopes: ['orders:read'] }, null, OPERATOR)).token.id)
  }
  const auditPerCreate = ((await exact('audit_events')) - auditBefore) / n
  const revBefore = await exact('revocation_events')
  const auditBefore2 = await exact('audit_events')
  for (const id of made) await tokens.revoke(owner.id, [id], 'revoked', OPERATOR)
  const revocationRowsPerRevoke = ((await exact('revocation_events')) - revBefore) / n
  const auditPerRevoke = ((await exact('audit_events')) - auditBefore2) / n
  const sizes = await tableSizes()
  const rowBytes = (name: string) => {
    const s = sizes[name]!
    return Math.round((Number(s.data) + Number(s.index)) / Math.max(1, Number(s.rows)))
  }

  // ------------------------------------------------------------ Redis memory per cached token
  log(`filling the cache with ${CACHED} tokens (introspection)`)
  const memBefore = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1])
  for (let i = 0; i < kept.length; i += 50) {
    await Promise.all(
      kept.slice(i, i + 50).map((k) =>
        app.inject({
          method: 'POST',
          url: '/introspect',
          headers: { authorization: `Bearer ${svc.value}` },
          payload: { token: k.value }
        })
      )
    )
  }
  const memAfter = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1])
  const sample = kept.filter((_, i) => i % Math.max(1, Math.floor(kept.length / 200)) === 0)
  const usage: number[] = []
  const valueLengths: number[] = []
  for (const k of sample) {
    const key = `${config.REDIS_KEY_PREFIX}tok:${k.id}`
    const u = (await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) as number | null
    if (u !== null) usage.push(u)
    valueLengths.push(await redis.strlen(key))
  }

  // ------------------------------------------------------------ revocation stream fan-out
  const fanout: { consumers: number; cpuMicrosPerEvent: number }[] = []
  let next = 0
  const revokeBatch = async () => {
    for (let i = 0; i < EVENTS; i++) {
      const k = kept[CACHED - 1 - next++]
      if (k === undefined) throw new Error('not enough tokens kept: raise --cached')
      await tokens.revokeByValue(k.value, OPERATOR, null)
    }
  }
  for (const c of CONSUMERS) {
    const perRound: number[] = []
    for (let r = 0; r < ROUNDS; r++) {
      const child = await startConsumers(url, svc.value, c)
      const cpu0 = process.cpuUsage()
      const t0 = performance.now()
      await revokeBatch()
      // every consumer has every event
      await child.waitFor(EVENTS)
      const cpu = process.cpuUsage(cpu0)
      perRound.push((cpu.user + cpu.system) / EVENTS)
      log(`${c} consumers, round ${r + 1}: ${((performance.now() - t0) / 1000).toFixed(2)} s`)
      await child.stop()
    }
    fanout.push({ consumers: c, cpuMicrosPerEvent: Math.round(median(perRound)) })
  }
  const base = fanout.find((f) => f.consumers === 0)?.cpuMicrosPerEvent ?? 0
  const perConsumer = fanout
    .filter((f) => f.consumers > 0)
    .map((f) => Math.round(((f.cpuMicrosPerEvent - base) / f.consumers) * 10) / 10)

  const result = {
    machine: 'shared 2-vCPU VM (noisy: other jobs running); timed figures are medians of rounds',
    database: {
      tokensSeeded: TOKENS,
      tokenRows,
      tokenBytesPerToken: Math.round(tokenBytes / TOKENS),
      tokensAvgRowBytesDataPlusIndex: rowBytes('tokens'),
      auditRowsPerCreate: auditPerCreate,
      auditRowsPerRevoke: auditPerRevoke,
      auditAvgRowBytes: rowBytes('audit_events'),
      revocationRowsPerRevoke,
      revocationAvgRowBytes: rowBytes('revocation_events')
    },
    redis: {
      cachedTokens: CACHED,
      memoryUsageMedianBytes: median(usage),
      valueLengthMedianBytes: median(valueLengths),
      usedMemoryGrowthPerToken: Math.round((memAfter - memBefore) / CACHED)
    },
    revocationStream: {
      eventsPerRound: EVENTS,
      rounds: ROUNDS,
      serverCpuMicrosPerEvent: fanout,
      serverCpuMicrosPerEventPerConsumer: perConsumer
    }
  }
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
  await app.close()
} finally {
  redis.disconnect()
  await redisNode.proc.kill()
  await maria.stop()
}

/** C SSE consumers of GET /v1/revocations in a child process; counts the events each got. */
async function startConsumers(
  base: string,
  token: string,
  count: number
): Promise<{ waitFor(events: number): Promise<void>; stop(): Promise<void> }> {
  const code = `
    const http = require('node:http')
    const counts = new Array(${count}).fill(0)
    const agent = new http.Agent({ keepAlive: true, maxSockets: ${Math.max(1, count)} })
    let open = 0
    for (let i = 0; i < ${count}; i++) {
      http.get(process.argv[1] + '/v1/revocations', { agent, headers: { accept: 'text/event-stream', authorization: 'Bearer ' + process.argv[2] } }, (res) => {
        if (res.statusCode !== 200) { console.error('status ' + res.statusCode); process.exit(1) }
        open++
        if (open === ${count}) process.stdout.write('open\\n')
        let buf = ''
        res.setEncoding('utf8')
        res.on('data', (d) => {
          buf += d
          let at
          while ((at = buf.indexOf('\\n\\n')) >= 0) {
            if (buf.slice(0, at).includes('event: revocation')) counts[i]++
            buf = buf.slice(at + 2)
          }
        })
      })
    }
    if (${count} === 0) process.stdout.write('open\\n')
    setInterval(() => process.stdout.write('min ' + (counts.length ? Math.min(...counts) : -1) + '\\n'), 50)
  `
  const child = spawn(process.execPath, ['-e', code, base, token], { stdio: ['ignore', 'pipe', 'inherit'] })
  let min = -1
  let opened = false
  let baseline: number | null = null
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (d: string) => {
    for (const line of d.split('\n')) {
      if (line === 'open') opened = true
      const m = /^min (-?\d+)$/.exec(line)
      if (m) min = Number(m[1])
    }
  })
  const deadline = Date.now() + 30000
  while (!opened) {
    if (Date.now() > deadline) throw new Error('consumers did not connect')
    await new Promise((r) => setTimeout(r, 20))
  }
  // events already in the log replay to a consumer without Last-Event-ID? wait until the counts settle
  await new Promise((r) => setTimeout(r, 300))
  baseline = min
  return {
    waitFor: async (events: number) => {
      if (count === 0) return
      const end = Date.now() + 60000
      while (min - (baseline ?? 0) < events) {
        if (Date.now() > end) throw new Error(`consumers got ${min - (baseline ?? 0)} of ${events} events`)
        await new Promise((r) => setTimeout(r, 20))
      }
    },
    stop: async () => {
      child.kill()
      await new Promise((r) => child.once('exit', r))
    }
  }
}

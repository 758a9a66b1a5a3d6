import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect, createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createConnection } from 'mysql2/promise'

/** A free loopback port (the kernel picks one). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/**
 * Servers of the failover tests (npm run test:ha) and the capacity measurements (npm run
 * bench:capacity), each on loopback with its own free port and a
 * temporary data folder: Redis primary + replica + three sentinels, a Redis Cluster of three
 * masters, a MariaDB primary + replica. Nothing shared (6379, 3306) is touched; every child is
 * killed when the test process exits, however it exits.
 */

const live = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

export function hasBinary(bin: string): boolean {
  return spawnSync('sh', ['-c', `command -v "${bin}"`], { stdio: 'ignore' }).status === 0
}

type TapLike = { plan(n: number, why?: string): void; fail(msg: string): void; teardown(fn: () => unknown): void }

/**
 * True when every binary is installed. Otherwise the test is skipped with a message saying what
 * is missing; under CI (CI=true) a missing binary is a failure, not a skip.
 */
export function requireBinaries(t: TapLike, bins: string[]): boolean {
  const missing = bins.filter((b) => !hasBinary(b))
  if (missing.length === 0) return true
  const msg = `failover tests need ${missing.join(', ')} (not on PATH)`
  if (process.env.CI === 'true') t.fail(`${msg}: required under CI`)
  else t.plan(0, `SKIPPED: ${msg}`)
  return false
}

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `ta-ha-${tag}-`))
}

/** A child process of a test, SIGKILLed on exit. */
export class Proc {
  readonly child: ChildProcess
  stderr = ''
  readonly exited: Promise<void>

  constructor(bin: string, args: string[]) {
    this.child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child.stdout?.on('data', (d) => (this.stderr += String(d)))
    this.child.stderr?.on('data', (d) => (this.stderr += String(d)))
    live.add(this.child)
    this.exited = new Promise((resolve) =>
      this.child.once('exit', () => {
        live.delete(this.child)
        resolve()
      })
    )
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running) return
    this.child.kill(signal)
    await this.exited
  }
}

/** Sends one inline command over a raw socket; resolves with the first reply line, or null. */
export function rawCommand(port: number, command: string, ms = 500): Promise<string | null> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port })
    let buf = ''
    const finish = (v: string | null) => {
      clearTimeout(timer)
      s.destroy()
      resolve(v)
    }
    const timer = setTimeout(() => finish(null), ms)
    s.on('connect', () => s.write(`${command}\r\n`))
    s.on('data', (d) => {
      buf += d.toString('latin1')
      if (buf.includes('\r\n')) finish(buf)
    })
    s.on('error', () => finish(null))
  })
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  ms = 20000
): Promise<T> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    const v = await fn().catch(() => undefined)
    if (v !== undefined && v !== null && v !== false) return v
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`)
}

export interface RedisNodeProc {
  port: number
  proc: Proc
  dir: string
}

/** A redis-server (or sentinel, with a config file) on a free port, answering PING. */
export async function startRedisNode(extra: string[] = [], opts: { configFile?: string } = {}): Promise<RedisNodeProc> {
  const port = await freePort()
  const dir = tempDir('redis')
  let args: string[]
  if (opts.configFile !== undefined) {
    const file = join(dir, 'sentinel.conf')
    writeFileSync(file, `port ${port}\nbind 127.0.0.1\ndir ${dir}\n${opts.configFile}`)
    args = [file, '--sentinel']
  } else {
    args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra]
  }
  const proc = new Proc('redis-server', [...args, '--loglevel', 'warning'])
  await waitFor(`redis on ${port}`, async () => {
    if (!proc.running) throw new Error(`redis-server exited: ${proc.stderr}`)
    return (await rawCommand(port, 'PING', 200))?.startsWith('+PONG')
  })
  return { port, proc, dir }
}

export interface SentinelSetup {
  primary: RedisNodeProc
  replica: RedisNodeProc
  sentinels: RedisNodeProc[]
  masterName: string
  /** `127.0.0.1:p,127.0.0.1:p,…` for REDIS_SENTINELS */
  sentinelList: string
  /** the port the sentinels currently name as primary */
  currentPrimaryPort(): Promise<number | null>
  stop(): Promise<void>
}

/** One primary, one replica, three sentinels (quorum 2, down after 1 s). */
export async function startSentinelSetup(): Promise<SentinelSetup> {
  const masterName = 'ta-ha'
  const primary = await startRedisNode()
  const replica = await startRedisNode(['--replicaof', '127.0.0.1', String(primary.port)])
  await waitFor('replica in sync', async () => {
    const info = await rawCommand(replica.port, 'INFO replication', 500)
    return info?.includes('master_link_status:up')
  })
  const conf = [
    `sentinel monitor ${masterName} 127.0.0.1 ${primary.port} 2`,
    `sentinel down-after-milliseconds ${masterName} 1000`,
    `sentinel failover-timeout ${masterName} 5000`,
    `sentinel parallel-syncs ${masterName} 1`,
    ''
  ].join('\n')
  const sentinels = await Promise.all([0, 1, 2].map(() => startRedisNode([], { configFile: conf })))
  const currentPrimaryPort = async (): Promise<number | null> => {
    for (const s of sentinels) {
      if (!s.proc.running) continue
      const reply = await rawCommand(s.port, `SENTINEL get-master-addr-by-name ${masterName}`, 500)
      const m = reply === null ? null : /\$\d+\r\n([^\r]+)\r\n\$\d+\r\n(\d+)/.exec(reply)
      if (m) return Number(m[2])
    }
    return null
  }
  // the sentinels have found each other and the replica
  await waitFor('sentinels ready', async () => {
    const reply = await rawCommand(sentinels[0]!.port, `SENTINEL master ${masterName}`, 500)
    if (reply === null) return false
    const field = (name: string) => new RegExp(`\\$\\d+\\r\\n${name}\\r\\n\\$\\d+\\r\\n(\\d+)`).exec(reply)?.[1]
    return Number(field('num-other-sentinels')) >= 2 && Number(field('num-slaves')) >= 1
  })
  return {
    primary,
    replica,
    sentinels,
    masterName,
    sentinelList: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
    currentPrimaryPort,
    stop: async () => {
      for (const n of [...sentinels, replica, primary]) {
        await n.proc.kill()
        rmSync(n.dir, { recursive: true, force: true })
      }
    }
  }
}

export interface ClusterSetup {
  nodes: RedisNodeProc[]
  /** `127.0.0.1:p,…` for REDIS_CLUSTER_NODES */
  nodeList: string
  stop(): Promise<void>
}

/** Three masters, no replicas, slots spread by redis-cli --cluster create. */
export async function startCluster(): Promise<ClusterSetup> {
  const nodes: RedisNodeProc[] = []
  const confDirs: string[] = []
  for (let i = 0; i < 3; i++) {
    const dir = tempDir('cluster')
    confDirs.push(dir)
    nodes.push(
      await startRedisNode([
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, 'nodes.conf'),
        '--cluster-node-timeout',
        '2000'
      ])
    )
  }
  const create = spawnSync(
    'redis-cli',
    ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'],
    { encoding: 'utf8', timeout: 30000 }
  )
  if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`)
  for (const n of nodes) {
    await waitFor(`cluster state ok on ${n.port}`, async () =>
      (await rawCommand(n.port, 'CLUSTER INFO', 500))?.includes('cluster_state:ok')
    )
  }
  return {
    nodes,
    nodeList: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    stop: async () => {
      for (const n of nodes) {
        await n.proc.kill()
        rmSync(n.dir, { recursive: true, force: true })
      }
      for (const dir of confDirs) rmSync(dir, { recursive: true, force: true })
    }
  }
}

export interface MariaInstance {
  port: number
  dir: string
  proc: Proc
  /** root over TCP (no password: a private, loopback-only server), database `ta` */
  url: string
  query(sql: string): Promise<unknown[]>
}

async function startMariadbd(dir: string, serverId: number): Promise<MariaInstance> {
  const port = await freePort()
  const proc = new Proc('mariadbd', [
    '--no-defaults',
    `--datadir=${join(dir, 'data')}`,
    `--socket=${join(dir, 'sock')}`,
    `--pid-file=${join(dir, 'pid')}`,
    `--log-error=${join(dir, 'err.log')}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    '--user=root',
    `--server-id=${serverId}`,
    `--log-bin=${join(dir, 'data', 'bin')}`,
    '--binlog-format=ROW',
    '--innodb-buffer-pool-size=32M',
    '--innodb-log-file-size=16M',
    '--skip-name-resolve',
    '--character-set-server=utf8mb4',
    '--collation-server=utf8mb4_bin'
  ])
  const query = async (sql: string): Promise<unknown[]> => {
    const c = await createConnection({ host: '127.0.0.1', port, user: 'root', multipleStatements: true })
    try {
      const [rows] = await c.query(sql)
      return rows as unknown[]
    } finally {
      await c.end()
    }
  }
  await waitFor(`mariadbd on ${port}`, async () => {
    if (!proc.running) throw new Error(`mariadbd exited (see ${join(dir, 'err.log')})`)
    await query('SELECT 1')
    return true
  })
  return { port, dir, proc, url: `mysql://root@127.0.0.1:${port}/ta`, query }
}

export interface MariaPair {
  primary: MariaInstance
  replica: MariaInstance
  /** STOP SLAVE SQL_THREAD: events still arrive, none is applied */
  pauseReplication(): Promise<void>
  resumeReplication(): Promise<void>
  /** waits until the replica has applied everything the primary wrote */
  caughtUp(): Promise<void>
  stop(): Promise<void>
}

function installMariaDb(datadir: string): void {
  const install = spawnSync(
    'mariadb-install-db',
    [
      '--no-defaults',
      `--datadir=${datadir}`,
      '--user=root',
      '--auth-root-authentication-method=normal',
      '--skip-test-db'
    ],
    { encoding: 'utf8', timeout: 120000 }
  )
  if (install.status !== 0) throw new Error(`mariadb-install-db failed: ${install.stdout}${install.stderr}`)
}

/** One mariadbd with a database `ta` (the capacity measurements). */
export async function startMariaDb(): Promise<MariaInstance & { stop(): Promise<void> }> {
  const base = tempDir('mariadb')
  installMariaDb(join(base, 'data'))
  const m = await startMariadbd(base, 1)
  await m.query('CREATE DATABASE ta CHARACTER SET utf8mb4 COLLATE utf8mb4_bin')
  return {
    ...m,
    stop: async () => {
      await m.proc.kill('SIGTERM')
      rmSync(base, { recursive: true, force: true })
    }
  }
}

/**
 * Two mariadbd instances: one data folder made by mariadb-install-db, copied for the replica
 * (both start empty, so GTID positions agree), binlog on the primary, CHANGE MASTER TO … GTID.
 */
export async function startMariaPair(): Promise<MariaPair> {
  const base = tempDir('mariadb')
  installMariaDb(join(base, 'primary', 'data'))
  cpSync(join(base, 'primary', 'data'), join(base, 'replica', 'data'), { recursive: true })
  const [primary, replica] = await Promise.all([
    startMariadbd(join(base, 'primary'), 1),
    startMariadbd(join(base, 'replica'), 2)
  ])
  await primary.query(
    "CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY 'repl-password'; GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1'"
  )
  await replica.query(
    `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${primary.port}, MASTER_USER='repl', MASTER_PASSWORD='repl-password', MASTER_USE_GTID=slave_pos; START SLAVE`
  )
  await waitFor('replication running', async () => {
    const [s] = (await replica.query('SHOW SLAVE STATUS')) as Record<string, unknown>[]
    return s?.Slave_IO_Running === 'Yes' && s?.Slave_SQL_Running === 'Yes'
  })
  await primary.query('CREATE DATABASE ta CHARACTER SET utf8mb4 COLLATE utf8mb4_bin')
  const caughtUp = async () => {
    await waitFor('replica caught up', async () => {
      const [p] = (await primary.query('SELECT @@gtid_binlog_pos AS pos')) as { pos: string }[]
      const [r] = (await replica.query('SELECT @@gtid_slave_pos AS pos')) as { pos: string }[]
      return p?.pos === r?.pos
    })
  }
  await caughtUp()
  return {
    primary,
    replica,
    pauseReplication: async () => {
      await replica.query('STOP SLAVE SQL_THREAD')
    },
    resumeReplication: async () => {
      await replica.query('START SLAVE SQL_THREAD')
    },
    caughtUp,
    stop: async () => {
      await Promise.all([replica.proc.kill('SIGTERM'), primary.proc.kill('SIGTERM')])
      rmSync(base, { recursive: true, force: true })
    }
  }
}

/**
 * For waitFor: true once the cache's Redis connection is ready. (Not a PING: one that fails before
 * the connection is up counts, rightly, as an outage this process saw, and makes every entry filled
 * in the next CACHE_TTL suspect.)
 */
export const connected = (cache: unknown) => async (): Promise<boolean> =>
  (cache as { client?: { status: string } }).client?.status === 'ready'

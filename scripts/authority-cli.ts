#!/usr/bin/env node
/**
 * Operator CLI: authority-cli <command> [options] [--json] [--] [arguments]
 *
 *   migrate up|down|status          apply, roll back one, or list migrations
 *   create-admin --username NAME    create an admin; prints a one-time password
 *                [--password-stdin] read the password from stdin instead
 *   revoke-token ID                 revoke one token by its public id
 *   revoke-account ID|USERNAME      revoke every live token of an account
 *   grant ID|USERNAME SCOPE...      add permissions to an account (how new EXTRA_SCOPES reach admins:
 *                                   through the API nobody grants what their own credential lacks)
 *   prune                           delete rows past their retention now (tokens, revocation log, webhook log)
 *   help [COMMAND]                  the list of commands, or one command's help
 *
 * Every command takes -h/--help (exit 0) and --json. Arguments may start with "-" (token ids are
 * random base64url: 1 in 64 does): a word that is not an option of the command fills the ID or
 * USERNAME slot, and after "--" every word is an argument.
 *
 * Exit codes: 0 done, 1 failed, 2 usage or configuration error.
 *
 * `run(argv, io)` is the whole CLI, for tests to call in process; importing this module has no side
 * effects (the process entry point at the bottom runs only when this file is the script executed).
 * The database and the services are imported on first use, so --help and usage errors stay fast.
 */
import { randomBytes } from 'node:crypto'
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ConfigError, loadConfig } from '../services/authority/src/config.js'
import type { AuthorityServices } from '../services/authority/src/services.js'

/** a command line the CLI cannot act on: exit 2, with the usage */
export class UsageError extends Error {
  override name = 'UsageError'
}

export type Command =
  | { name: 'migrate'; action: 'up' | 'down' | 'status' }
  | { name: 'create-admin'; username: string; passwordStdin: boolean }
  | { name: 'revoke-token'; id: string }
  | { name: 'revoke-account'; account: string }
  | { name: 'grant'; account: string; scopes: string[] }
  | { name: 'prune' }

/** what a command line asks for: a help text to print, or a command to run */
export type Invocation = { help: string } | { command: Command; json: boolean }

interface Positional {
  name: string
  /** may be a word that starts with "-" (ids, usernames); else such a word is an unknown option */
  anyText: boolean
  variadic?: boolean
  choices?: readonly string[]
}

interface Spec {
  name: Command['name']
  synopsis: string
  summary: string
  description: string
  /** the command's own options (--json and --help are everyone's) */
  options: Record<string, { type: 'boolean'; help: string } | { type: 'string'; value: string; help: string }>
  positionals: Positional[]
  build(positionals: string[], values: Record<string, string | true>): Command
}

const SPECS: readonly Spec[] = [
  {
    name: 'migrate',
    synopsis: 'migrate up|down|status',
    summary: 'apply, roll back one, or list migrations',
    description:
      'up: apply every pending migration; down: roll back the newest applied one; status: list them.\n' +
      'With MySQL, run it (or the migration Job) before the servers start: they refuse to while\n' +
      'migrations are pending. The embedded database migrates by itself.',
    options: {},
    positionals: [{ name: 'up|down|status', anyText: false, choices: ['up', 'down', 'status'] }],
    build: ([action]) => ({ name: 'migrate', action: action as 'up' | 'down' | 'status' })
  },
  {
    name: 'create-admin',
    synopsis: 'create-admin --username NAME [--password-stdin]',
    summary: 'create an admin; prints a one-time password',
    description:
      'Creates an admin account. Without --password-stdin a random password is printed once:\n' +
      'change it with POST /v1/me/password (current_password, new_password).',
    options: {
      '--username': {
        type: 'string',
        value: 'NAME',
        help: "the admin's username (stored lower-case); also --username=NAME"
      },
      '--password-stdin': { type: 'boolean', help: 'read the password from stdin (one line) instead' }
    },
    positionals: [],
    build: (_, values) => {
      const username = values['--username']
      if (typeof username !== 'string' || username === '') throw new UsageError('create-admin needs --username NAME')
      return { name: 'create-admin', username, passwordStdin: values['--password-stdin'] === true }
    }
  },
  {
    name: 'revoke-token',
    synopsis: 'revoke-token ID',
    summary: 'revoke one token by its public id',
    description:
      'Revokes one token by its public id (the "id" the API shows: 22 base64url characters, which may\n' +
      'start with "-"). Caches, Redis included, hear of it as of a revocation through the API.\n' +
      'Exit 1 if there is no such token.',
    options: {},
    positionals: [{ name: 'ID', anyText: true }],
    build: ([id]) => ({ name: 'revoke-token', id: id! })
  },
  {
    name: 'revoke-account',
    synopsis: 'revoke-account ID|USERNAME',
    summary: 'revoke every live token of an account',
    description: 'Revokes every live token of the account with this id or username. Exit 1 if there is none.',
    options: {},
    positionals: [{ name: 'ID|USERNAME', anyText: true }],
    build: ([account]) => ({ name: 'revoke-account', account: account! })
  },
  {
    name: 'grant',
    synopsis: 'grant ID|USERNAME SCOPE...',
    summary: 'add permissions to an account',
    description:
      'Adds permissions to the account with this id or username. This is how a scope newly added to\n' +
      'EXTRA_SCOPES reaches the admins: through the API nobody grants what their own credential lacks.',
    options: {},
    positionals: [
      { name: 'ID|USERNAME', anyText: true },
      { name: 'SCOPE', anyText: false, variadic: true }
    ],
    build: ([account, ...scopes]) => ({ name: 'grant', account: account!, scopes })
  },
  {
    name: 'prune',
    synopsis: 'prune',
    summary: 'delete rows past their retention now (tokens, revocation log, webhook log)',
    description:
      'Deletes, now, the token rows expired or revoked more than PRUNE_RETENTION_DAYS ago, the\n' +
      'revocation log events older than REVOCATION_LOG_RETENTION_HOURS (the newest is always kept) and\n' +
      'the delivered or failed webhook deliveries older than WEBHOOK_LOG_RETENTION_DAYS. The server\n' +
      'does the same every PRUNE_INTERVAL_SECONDS.',
    options: {},
    positionals: [],
    build: () => ({ name: 'prune' })
  }
]

const COMMON_OPTIONS = `options of every command:
  --json       one JSON object: {"ok":true,...} on stdout, or {"ok":false,"error":"..."} on stderr
  -h, --help   help (of the command when it follows the command's name); exit 0
  --           end of options: every word after it is an argument, even one that starts with "-"`

const ARGUMENTS_NOTE = `Arguments may start with "-" (token ids are random base64url: 1 in 64 does). A word that is
not an option of the command is taken as its ID or USERNAME; put "--" before one spelled like an
option (-h, --help, --json).`

const TOP_USAGE = 'usage: authority-cli <command> [options] [--json] [--] [arguments]'

export const TOP_HELP = `${TOP_USAGE}

The token authority's operator commands. They read the server's configuration from the
environment (DATABASE_URL or DATA_DIR, REDIS_URL, TOKEN_SIGNING_KEYS, TOKEN_PEPPER, ...).

commands:
${SPECS.map((s) => `  ${s.synopsis.padEnd(48)} ${s.summary}`).join('\n')}
  ${'help [COMMAND]'.padEnd(48)} this list, or a command's help

${COMMON_OPTIONS}

${ARGUMENTS_NOTE}

"authority-cli COMMAND --help" describes a command.
exit codes: 0 done, 1 failed, 2 usage or configuration error`

const synopsisOf = (spec: Spec) =>
  `usage: authority-cli ${spec.synopsis.replace(/^(\S+)/, (name) => (spec.positionals.length ? `${name} [--json] [--]` : `${name} [--json]`))}`

export function commandHelp(name: Command['name']): string {
  const spec = SPECS.find((s) => s.name === name)!
  const own = Object.entries(spec.options)
  return [
    synopsisOf(spec),
    '',
    spec.description,
    ...(own.length
      ? [
          '',
          'options:',
          ...own.map(([flag, o]) => `  ${(o.type === 'string' ? `${flag} ${o.value}` : flag).padEnd(22)} ${o.help}`)
        ]
      : []),
    '',
    COMMON_OPTIONS,
    ...(spec.positionals.some((p) => p.anyText) ? ['', ARGUMENTS_NOTE] : []),
    '',
    'exit codes: 0 done, 1 failed, 2 usage or configuration error'
  ].join('\n')
}

const usageOf = (spec: Spec | undefined) =>
  spec
    ? `${synopsisOf(spec)}\n(authority-cli ${spec.name} --help for more)`
    : `${TOP_USAGE}\n(authority-cli --help lists the commands)`

/**
 * Parses a command line. Options are recognised by their exact names only (--json, -h/--help, and
 * the command's own), before or after the arguments; "--" ends them. Any other word that starts
 * with "-" is an argument where the command takes an id or username, else an unknown option.
 * Throws UsageError.
 */
export function parseCommandLine(argv: readonly string[]): Invocation {
  let spec: Spec | undefined
  let unknownCommand: string | undefined
  let help = false
  let json = false
  let endOfOptions = false
  let error: string | undefined
  const positionals: string[] = []
  const values: Record<string, string | true> = {}
  const fail = (message: string) => {
    error ??= message
  }
  /** what the next argument would be */
  const slot = (): Positional | undefined => {
    const list = spec?.positionals ?? []
    const last = list[list.length - 1]
    return positionals.length < list.length ? list[positionals.length] : last?.variadic ? last : undefined
  }

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (!endOfOptions && arg === '--') {
      endOfOptions = true
      continue
    }
    if (!endOfOptions && arg.startsWith('-') && arg !== '-') {
      const eq = arg.startsWith('--') ? arg.indexOf('=') : -1
      const flag = eq > 0 ? arg.slice(0, eq) : arg
      const inline = eq > 0 ? arg.slice(eq + 1) : undefined
      const own = spec?.options[flag]
      if (flag === '--help' || flag === '-h' || flag === '--json' || own?.type === 'boolean') {
        if (inline !== undefined) fail(`${flag} takes no value`)
        else if (flag === '--json') json = true
        else if (flag === '--help' || flag === '-h') help = true
        else values[flag] = true
        continue
      }
      if (own?.type === 'string') {
        // the next word is the value whatever it looks like: --username -bob
        const value = inline ?? argv[++i]
        if (value === undefined) fail(`${flag} needs a value`)
        else values[flag] = value
        continue
      }
      if (slot()?.anyText) {
        positionals.push(arg)
        continue
      }
      fail(`unknown option ${arg}${spec ? ` for ${spec.name}` : ''} (an argument that starts with "-" goes after "--")`)
      continue
    }
    if (spec === undefined && unknownCommand === undefined) {
      if (arg === 'help' && !help) {
        help = true // help [COMMAND]
        continue
      }
      spec = SPECS.find((s) => s.name === arg)
      if (spec === undefined) unknownCommand = arg
      continue
    }
    if (spec === undefined) continue // after an unknown command: already an error
    const s = slot()
    if (s === undefined) fail(`unexpected argument ${arg}`)
    else if (s.choices && !s.choices.includes(arg)) fail(`${spec.name}: "${arg}" is not one of ${s.choices.join(', ')}`)
    else positionals.push(arg)
  }

  if (unknownCommand !== undefined) throw new UsageError(`unknown command ${unknownCommand}\n${usageOf(undefined)}`)
  if (help) return { help: spec ? commandHelp(spec.name) : TOP_HELP }
  if (spec === undefined) throw new UsageError(`${error ?? 'no command given'}\n${usageOf(undefined)}`)
  if (error !== undefined) throw new UsageError(`${error}\n${usageOf(spec)}`)
  const missing = spec.positionals.find((_p, i) => positionals.length <= i)
  if (missing !== undefined) throw new UsageError(`${spec.name} needs ${missing.name}\n${usageOf(spec)}`)
  try {
    return { command: spec.build(positionals, values), json }
  } catch (err) {
    if (err instanceof UsageError) throw new UsageError(`${err.message}\n${usageOf(spec)}`)
    throw err
  }
}

/** where the CLI reads and writes: the process's own, or a test's */
export interface CliIo {
  /** the environment the configuration is read from */
  env: Readonly<Record<string, string | undefined>>
  stdout: { write(chunk: string): unknown }
  /** errors, and the log of the app the CLI builds */
  stderr: { write(chunk: string): unknown }
  /** read by create-admin --password-stdin */
  stdin: AsyncIterable<string | Uint8Array>
}

async function readAll(stdin: CliIo['stdin']): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk))
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '')
}

async function findAccountId(services: AuthorityServices, idOrUsername: string): Promise<string> {
  const { normalizeUsername } = await import('../services/authority/src/accounts/account-service.js')
  const { findAccountByIdOrUsername } = await import('../services/authority/src/accounts/account.repository.js')
  const acct = await findAccountByIdOrUsername(services.database.db, idOrUsername, normalizeUsername(idOrUsername))
  if (acct === undefined) throw new Error(`no account ${idOrUsername}`)
  return acct.id
}

/** What the operator may rely on: the running authorities follow the revocation log. */
function reaches(config: { REVOCATION_LOG_POLL_MS: number }): string {
  return `\n(running authorities read the revocation log every ${config.REVOCATION_LOG_POLL_MS} ms (REVOCATION_LOG_POLL_MS as set for this command) and apply it at their next read)`
}

async function execute(command: Command, io: CliIo): Promise<{ human: string; data: object }> {
  const config = loadConfig(io.env as NodeJS.ProcessEnv)
  const { openDatabase } = await import('../services/authority/src/db/database.js')
  const { migrateDown, migrateToLatest, migrationStatus } = await import('../services/authority/src/db/migrations.js')
  const database = openDatabase(config)
  try {
    if (command.name === 'migrate') {
      if (command.action === 'up') {
        const applied = await migrateToLatest(database.db)
        return { human: applied.length ? `applied ${applied.join(', ')}` : 'already up to date', data: { applied } }
      }
      if (command.action === 'down') {
        const reverted = await migrateDown(database.db)
        return { human: reverted.length ? `reverted ${reverted.join(', ')}` : 'nothing to revert', data: { reverted } }
      }
      const list = await migrationStatus(database.db)
      return {
        human: list.map((m) => `${m.executedAt ? 'applied' : 'pending'}  ${m.name}`).join('\n'),
        data: { migrations: list.map((m) => ({ name: m.name, applied_at: m.executedAt?.toISOString() ?? null })) }
      }
    }
    if (command.name === 'prune') {
      const { pruneAll } = await import('../services/authority/src/jobs/prune-job.js')
      const { systemClock } = await import('../services/authority/src/clock.js')
      const p = await pruneAll(database.db, systemClock, {
        retentionMs: config.PRUNE_RETENTION_DAYS * 86400_000,
        revocationRetentionMs: config.REVOCATION_LOG_RETENTION_HOURS * 3600_000,
        webhookRetentionMs: config.WEBHOOK_LOG_RETENTION_DAYS * 86400_000
      })
      return {
        human:
          `pruned ${p.tokens} token rows, ${p.revocationEvents} revocation log events, ` +
          `${p.webhookRows} webhook deliveries and events`,
        // `pruned`: token rows, as before
        data: { pruned: p.tokens, revocation_events: p.revocationEvents, webhook_rows: p.webhookRows }
      }
    }

    // The rest go through the services (no HTTP), so caches are invalidated like any API change.
    const { boot } = await import('../services/authority/src/boot.js')
    const { loggerOptions } = await import('../services/authority/src/logging.js')
    const booted = await boot(
      { ...config, PRUNE_INTERVAL_SECONDS: 0 },
      {
        migrate: 'embedded',
        database,
        // a one-shot command writes the revocation log; running authorities follow it
        followRevocations: false,
        // its cache invalidation is the fast path: give a Sentinel / Cluster client time to find its nodes
        awaitRedisMs: config.REDIS_CONNECT_TIMEOUT_MS,
        // warnings and errors only, on stderr: stdout is the command's output (--json parses it)
        logger: {
          ...loggerOptions({ LOG_LEVEL: 'warn' }),
          stream: { write: (line: string) => void io.stderr.write(line) }
        }
      }
    )
    const actor = { accountId: null, tokenId: null, ip: 'cli' }
    try {
      const { accounts, tokens } = booted.services
      switch (command.name) {
        case 'create-admin': {
          const given = command.passwordStdin ? await readAll(io.stdin) : undefined
          const password = given ?? randomBytes(18).toString('base64url')
          const account = await accounts.create({ username: command.username, password, kind: 'admin' }, null, actor)
          const data = { id: account.id, username: account.username, ...(given === undefined ? { password } : {}) }
          return {
            human:
              `created admin ${account.username} (${account.id})` +
              (given === undefined
                ? `\none-time password (shown once): ${password}\nchange it with POST /v1/me/password (current_password, new_password)`
                : ''),
            data
          }
        }
        case 'revoke-token': {
          const id = command.id
          const accountId = await tokens.ownerOf(id)
          if (accountId === undefined) throw new Error(`no token ${id}`)
          const r = await tokens.revoke(accountId, [id], 'revoked', actor)
          return {
            human: r.revoked.length ? `revoked ${id}${reaches(config)}` : `${id} was already inactive`,
            data: { revoked: r.revoked }
          }
        }
        case 'grant': {
          const id = await findAccountId(booted.services, command.account)
          const current = await accounts.get(id)
          const updated = await accounts.update(
            id,
            { permissions: [...new Set([...current.permissions, ...command.scopes])] },
            null,
            actor
          )
          return {
            human: `${updated.username} now holds ${updated.permissions.join(' ')}`,
            data: { permissions: updated.permissions }
          }
        }
        case 'revoke-account': {
          const r = await tokens.revoke(await findAccountId(booted.services, command.account), null, 'revoked', actor)
          return {
            human: `revoked ${r.revoked.length} tokens${r.revoked.length > 0 ? reaches(config) : ''}`,
            data: { revoked: r.revoked }
          }
        }
      }
    } finally {
      await booted.close()
    }
  } finally {
    await database.close()
  }
}

/** The whole CLI: parses argv (without node and the script), runs the command, writes to io; resolves to the exit code. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let invocation: Invocation
  let json = argv.slice(0, argv.includes('--') ? argv.indexOf('--') : argv.length).includes('--json')
  const fail = (err: Error, code: number): number => {
    io.stderr.write(`${json ? JSON.stringify({ ok: false, error: err.message }) : `authority-cli: ${err.message}`}\n`)
    return code
  }
  try {
    invocation = parseCommandLine(argv)
  } catch (err) {
    return fail(err as Error, err instanceof UsageError ? 2 : 1)
  }
  if ('help' in invocation) {
    io.stdout.write(`${invocation.help}\n`)
    return 0
  }
  json = invocation.json
  try {
    const { human, data } = await execute(invocation.command, io)
    io.stdout.write(`${json ? JSON.stringify({ ok: true, ...data }) : human}\n`)
    return 0
  } catch (err) {
    return fail(err as Error, err instanceof UsageError || err instanceof ConfigError ? 2 : 1)
  }
}

/** true when this file is the script node was started with (directly, through tsx, or the npm bin link) */
function isEntryPoint(): boolean {
  const script = process.argv[1]
  if (script === undefined) return false
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

if (isEntryPoint()) {
  run(process.argv.slice(2), {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin
  }).then((code) => {
    process.exitCode = code
  })
}

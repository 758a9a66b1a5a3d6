import { execFile } from 'node:child_process'
import { Readable } from 'node:stream'
import { promisify } from 'node:util'
import fc from 'fast-check'
import t from 'tap'
import { BACKEND_NAMES, createBackend } from '../support/backends.js'
import { ADMIN, bearer, introspect, createService, login, startAuthority } from '../support/authority.js'

// Importing the CLI module must run nothing: with the old top-level entry point it parsed this
// process's argv, printed its usage to stderr and set exit code 2.
const stderrLines: string[] = []
const stderrWrite = process.stderr.write.bind(process.stderr)
process.stderr.write = ((chunk: string | Uint8Array) => {
  stderrLines.push(String(chunk))
  return true
}) as typeof process.stderr.write
const { TOP_HELP, UsageError, commandHelp, parseCommandLine, run } = await import('../../scripts/authority-cli.js')
await new Promise((resolve) => setTimeout(resolve, 50))
process.stderr.write = stderrWrite

const execFileP = promisify(execFile)
const CLI = new URL('../../scripts/authority-cli.ts', import.meta.url).pathname
const COMMANDS = ['migrate', 'create-admin', 'revoke-token', 'revoke-account', 'grant', 'prune'] as const

interface Result {
  code: number
  stdout: string
  stderr: string
}

/** the CLI in this process: as its binary would be run with this environment */
async function cli(env: Record<string, string>, ...args: string[]): Promise<Result> {
  return cliWithStdin(env, '', ...args)
}

async function cliWithStdin(env: Record<string, string>, stdin: string, ...args: string[]): Promise<Result> {
  let stdout = ''
  let stderr = ''
  const code = await run(args, {
    env: { ...process.env, BCRYPT_COST: '4', LOG_LEVEL: 'warn', ...env },
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    stdin: Readable.from(stdin === '' ? [] : [stdin])
  })
  return { code, stdout, stderr }
}

/** the real binary, in a process of its own */
async function spawnCli(env: Record<string, string>, ...args: string[]): Promise<Result> {
  try {
    const { stdout, stderr } = await execFileP(process.execPath, ['--import=tsx', CLI, ...args], {
      env: { ...process.env, BCRYPT_COST: '4', LOG_LEVEL: 'warn', ...env },
      timeout: 60_000
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

const command = (argv: string[]) => {
  const parsed = parseCommandLine(argv)
  if ('help' in parsed) throw new Error(`expected a command, got help for ${argv.join(' ')}`)
  return parsed
}

t.test('importing the CLI module has no side effects', async (t) => {
  t.same(stderrLines, [], 'nothing written')
  t.equal(process.exitCode, undefined, 'no exit code set')
})

t.test('command line: ids and usernames that start with "-" are arguments', async (t) => {
  const id = '-Hx3kQ9v_tR2mN8pL5wZ1a'
  t.same(command(['revoke-token', id]), { command: { name: 'revoke-token', id }, json: false }, 'revoke-token -Hx…')
  t.same(
    command(['revoke-token', '--Hx3kQ9v_tR2mN8pL5wZ1']).command,
    { name: 'revoke-token', id: '--Hx3kQ9v_tR2mN8pL5wZ1' },
    'even "--…"'
  )
  t.same(command(['revoke-token', id, '--json']), { command: { name: 'revoke-token', id }, json: true })
  t.same(
    command(['--json', 'revoke-token', id]),
    { command: { name: 'revoke-token', id }, json: true },
    '--json before the command'
  )
  t.same(
    command(['revoke-token', '--json', '--', id]),
    { command: { name: 'revoke-token', id }, json: true },
    'after --'
  )
  t.same(
    command(['revoke-token', '--', '-h']).command,
    { name: 'revoke-token', id: '-h' },
    'after --, -h is an argument'
  )
  t.same(
    command(['revoke-token', '--', '--json']),
    { command: { name: 'revoke-token', id: '--json' }, json: false },
    'after --, --json is too'
  )
  t.same(command(['revoke-account', '-bob']).command, { name: 'revoke-account', account: '-bob' })
  t.same(command(['revoke-account', '--', '--help']).command, { name: 'revoke-account', account: '--help' })
  t.same(command(['grant', '-bob', 'orders:read', 'orders:write', '--json']), {
    command: { name: 'grant', account: '-bob', scopes: ['orders:read', 'orders:write'] },
    json: true
  })
  t.same(command(['grant', '--', '-bob', 'orders:read']).command, {
    name: 'grant',
    account: '-bob',
    scopes: ['orders:read']
  })
  t.same(command(['create-admin', '--username', '-bob']).command, {
    name: 'create-admin',
    username: '-bob',
    passwordStdin: false
  })
  t.same(command(['create-admin', '--password-stdin', '--username=-bob']).command, {
    name: 'create-admin',
    username: '-bob',
    passwordStdin: true
  })
  t.same(command(['migrate', 'up']).command, { name: 'migrate', action: 'up' })
  t.same(command(['prune', '--json']), { command: { name: 'prune' }, json: true })

  // Every token id (16 random bytes, base64url) parses as itself, wherever --json goes.
  const tokenId = fc
    .tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.constantFrom('', '-', '--'))
    .map(([bytes, lead]) => lead + Buffer.from(bytes).toString('base64url').slice(lead.length))
  fc.assert(
    fc.property(tokenId, fc.integer({ min: 0, max: 2 }), (id, at) => {
      const argv = ['revoke-token', id]
      argv.splice(at, 0, '--json')
      const parsed = command(argv)
      return parsed.json && parsed.command.name === 'revoke-token' && parsed.command.id === id
    })
  )
})

t.test('command line: usage errors', async (t) => {
  const usage = (argv: string[], re: RegExp, what: string) => {
    try {
      parseCommandLine(argv)
      t.fail(`${what}: no error`)
    } catch (err) {
      t.ok(err instanceof UsageError, `${what}: a usage error (exit 2)`)
      t.match((err as Error).message, re, what)
    }
  }
  usage([], /no command given\nusage: authority-cli/, 'no command')
  usage(['frobnicate'], /unknown command frobnicate/, 'unknown command')
  usage(['frobnicate', '--help'], /unknown command frobnicate/, 'no help for an unknown command')
  usage(['--verbose', 'prune'], /unknown option --verbose/, 'an unknown option where no id goes')
  usage(
    ['migrate', '--dry-run', 'up'],
    /unknown option --dry-run for migrate/,
    'nor before an argument that is not an id'
  )
  usage(['migrate', 'sideways'], /"sideways" is not one of up, down, status/, 'migrate sideways')
  usage(['migrate'], /migrate needs up\|down\|status/, 'migrate alone')
  usage(['revoke-token'], /revoke-token needs ID\nusage: authority-cli revoke-token/, 'no id')
  usage(['revoke-token', '--json'], /revoke-token needs ID/, '--json is not an id')
  usage(['revoke-token', 'a', 'b'], /unexpected argument b/, 'two ids')
  usage(['revoke-token', 'a', '-b'], /unknown option -b/, 'a second id-like word is an unknown option')
  usage(['grant', 'bob'], /grant needs SCOPE/, 'grant without a scope')
  usage(['grant', 'bob', '--read'], /unknown option --read for grant/, 'scopes never start with "-"')
  usage(['create-admin'], /create-admin needs --username NAME/, 'no username')
  usage(['create-admin', '--username'], /--username needs a value/, 'no value')
  usage(['create-admin', '--username='], /create-admin needs --username NAME/, 'an empty value')
  usage(['prune', '--json=yes'], /--json takes no value/, '--json=yes')
  usage(['prune', 'now'], /unexpected argument now/, 'prune takes no argument')
})

t.test('command line: --help everywhere, exit 0', async (t) => {
  for (const argv of [['--help'], ['-h'], ['help'], ['--json', '--help']])
    t.same(parseCommandLine(argv), { help: TOP_HELP }, argv.join(' '))
  for (const name of COMMANDS) {
    t.match(TOP_HELP, new RegExp(`\\n  ${name} `), `the top help lists ${name}`)
    const help = commandHelp(name)
    t.match(help, new RegExp(`^usage: authority-cli ${name} `), `${name} has its own usage`)
    t.match(help, /-h, --help/)
    t.match(help, /exit codes: 0 done, 1 failed, 2 usage or configuration error/)
    t.same(parseCommandLine([name, '--help']), { help }, `${name} --help`)
    t.same(parseCommandLine([name, '-h']), { help }, `${name} -h`)
    t.same(parseCommandLine(['help', name]), { help }, `help ${name}`)
    t.same(parseCommandLine([name, '--bogus', 'x', 'y', '--help']), { help }, `${name} --help wins over other mistakes`)
  }
  t.match(commandHelp('create-admin'), /change it with POST \/v1\/me\/password \(current_password, new_password\)/)

  // through run(): help on stdout, exit 0, no configuration needed
  const top = await cli({ PORT: 'nope' }, '--help')
  t.same({ code: top.code, stderr: top.stderr }, { code: 0, stderr: '' })
  t.equal(top.stdout, `${TOP_HELP}\n`)
  const grant = await cli({ PORT: 'nope' }, 'grant', '--help')
  t.same(grant, { code: 0, stdout: `${commandHelp('grant')}\n`, stderr: '' })
  const bad = await cli({}, 'grant', 'bob', '--read', '--json')
  t.equal(bad.code, 2)
  t.equal(bad.stdout, '')
  t.match(JSON.parse(bad.stderr), { ok: false, error: /unknown option --read/ }, '--json errors are JSON too')
})

t.test('the real binary: exit codes, stdout and stderr (the one spawned test)', async (t) => {
  const backend = await createBackend('embedded')
  t.teardown(() => backend.cleanup())
  const id = '-AAAAAAAAAAAAAAAAAAAAA'
  const [help, usage, failed] = await Promise.all([
    spawnCli(backend.env, 'revoke-token', '--help'),
    spawnCli(backend.env),
    spawnCli(backend.env, 'revoke-token', id, '--json')
  ])
  t.same(help, { code: 0, stdout: `${commandHelp('revoke-token')}\n`, stderr: '' }, '--help: stdout, exit 0')
  t.equal(usage.code, 2, 'no command: usage, exit 2')
  t.equal(usage.stdout, '')
  t.match(usage.stderr, /^authority-cli: no command given\nusage: authority-cli/)
  t.equal(failed.code, 1, `an id that starts with "-" reaches the lookup: unknown, exit 1 (${failed.stderr})`)
  t.equal(failed.stdout, '')
  t.same(JSON.parse(failed.stderr), { ok: false, error: `no token ${id}` })
})

for (const name of BACKEND_NAMES()) {
  t.test(`operator CLI on ${name}`, async (t) => {
    const backend = await createBackend(name)
    t.teardown(() => backend.cleanup())
    const env = backend.env

    const usage = await cli(env)
    t.equal(usage.code, 2, 'no command: usage, exit 2')
    t.match(usage.stderr, /usage: authority-cli/)
    t.equal((await cli(env, 'migrate', 'sideways')).code, 2)
    t.equal((await cli({ ...env, PORT: 'nope' }, 'migrate', 'status')).code, 2, 'bad config: exit 2')

    const up = await cli(env, 'migrate', 'up', '--json')
    t.equal(up.code, 0, up.stderr)
    t.same(JSON.parse(up.stdout), {
      ok: true,
      applied: [
        '0001-initial',
        '0002-exact-usernames',
        '0003-account-watermark',
        '0004-revocation-log',
        '0005-rotation-overlap',
        '0006-last-used-and-revoke-before',
        '0007-webhooks',
        '0008-token-exchange'
      ]
    })
    const status = await cli(env, 'migrate', 'status')
    t.match(status.stdout, /applied\s+0001-initial/)

    const ta = await startAuthority(t, name, { backend })
    const admin = await cli(env, 'create-admin', '--username', 'Operator', '--json')
    t.equal(admin.code, 0, admin.stderr)
    const created = JSON.parse(admin.stdout)
    t.equal(created.username, 'operator')
    t.match(created.password, /^[A-Za-z0-9_-]{24}$/, 'a one-time password is printed once')
    t.equal((await cli(env, 'create-admin', '--username', 'operator')).code, 1, 'a taken name fails with 1')
    t.equal((await cli(env, 'create-admin')).code, 2)

    // A username that starts with "-", its one-time password and how to change it.
    // (new usernames may not start with "-": the value reaches the username rule, not the option parser)
    const refusedDash = await cli(env, 'create-admin', '--username', '-Dash')
    t.equal(refusedDash.code, 1, 'a username starting with "-" is refused by the username rule')
    t.match(refusedDash.stderr, /username must be/)
    const dash = await cli(env, 'create-admin', '--username', 'Dash-Admin')
    t.equal(dash.code, 0, dash.stderr)
    const oneTime =
      /one-time password \(shown once\): (\S+)\nchange it with POST \/v1\/me\/password \(current_password, new_password\)\n$/.exec(
        dash.stdout
      )
    t.ok(oneTime, `the one-time password and how to change it: ${dash.stdout}`)
    // an account from before the username rule may still be named "-dash" (it keeps logging in)
    await ta.app.authority.database.db
      .updateTable('accounts')
      .set({ username: '-dash' })
      .where('username', '=', 'dash-admin')
      .execute()
    t.ok(await login(ta.app, 'admin', '-dash', oneTime![1]!), 'the printed password logs in')
    const fromStdin = await cliWithStdin(
      env,
      'a password from stdin\n',
      'create-admin',
      '--username=stdin-admin',
      '--password-stdin',
      '--json'
    )
    t.equal(fromStdin.code, 0, fromStdin.stderr)
    t.notOk('password' in JSON.parse(fromStdin.stdout), 'a given password is not echoed')
    t.ok(
      await login(ta.app, 'admin', 'stdin-admin', 'a password from stdin'),
      '--password-stdin: that password logs in'
    )

    // Tokens made through the API are revoked by the CLI, and the cache hears of it.
    const svc = await createService(ta, 'cli-svc', ['tokens:introspect'])
    const mk = async () => {
      const res = await ta.app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: bearer(ta.adminToken),
        payload: { name: 'cli', scopes: ['tokens:read'], password: ADMIN.password }
      })
      return { id: res.json().token.id as string, value: res.json().access_token as string }
    }
    const one = await mk()
    t.equal((await introspect(ta, svc.token, one.value)).active, true)
    const revoked = await cli(env, 'revoke-token', one.id, '--json')
    t.equal(revoked.code, 0, revoked.stderr)
    t.same(JSON.parse(revoked.stdout).revoked, [one.id])
    if (name === 'mysql+redis')
      t.same(await introspect(ta, svc.token, one.value), { active: false }, 'shared cache invalidated')
    t.equal((await cli(env, 'revoke-token', 'AAAAAAAAAAAAAAAAAAAAAA')).code, 1, 'unknown id: exit 1')

    // 1 id in 64 starts with "-": such a token is revoked like any other (it was "Unknown option").
    let dashed = await mk()
    for (let i = 0; !dashed.id.startsWith('-') && i < 2000; i++) dashed = await mk()
    t.match(dashed.id, /^-/, 'a token whose id starts with "-"')
    t.equal((await introspect(ta, svc.token, dashed.value)).active, true)
    const revokedDashed = await cli(env, 'revoke-token', dashed.id, '--json')
    t.equal(revokedDashed.code, 0, revokedDashed.stderr)
    t.same(JSON.parse(revokedDashed.stdout).revoked, [dashed.id])
    if (name === 'mysql+redis')
      t.same(await introspect(ta, svc.token, dashed.value), { active: false }, 'shared cache invalidated')
    const again = await cli(env, 'revoke-token', '--', dashed.id)
    t.same(again, { code: 0, stdout: `${dashed.id} was already inactive\n`, stderr: '' }, 'and after --')

    const two = await mk()
    const all = await cli(env, 'revoke-account', ADMIN.username, '--json')
    t.equal(all.code, 0, all.stderr)
    t.ok(JSON.parse(all.stdout).revoked.includes(two.id))
    t.equal((await cli(env, 'revoke-account', 'nobody')).code, 1)

    const granted = await cli({ ...env, EXTRA_SCOPES: 'reports:read' }, 'grant', 'operator', 'reports:read', '--json')
    t.equal(granted.code, 0, granted.stderr)
    t.ok(
      JSON.parse(granted.stdout).permissions.includes('reports:read'),
      'a new scope reaches an admin through the operator'
    )
    t.equal((await cli(env, 'grant', 'operator')).code, 2)

    // an account named "-dash": granted to and revoked by its username
    const dashGrant = await cli({ ...env, EXTRA_SCOPES: 'reports:read' }, 'grant', '-dash', 'reports:read', '--json')
    t.equal(dashGrant.code, 0, dashGrant.stderr)
    t.ok(JSON.parse(dashGrant.stdout).permissions.includes('reports:read'), 'grant -dash')
    const dashToken = await login(ta.app, 'admin', '-dash', oneTime![1]!)
    const dashRevoked = await cli(env, 'revoke-account', '-dash', '--json')
    t.equal(dashRevoked.code, 0, dashRevoked.stderr)
    t.equal(JSON.parse(dashRevoked.stdout).revoked.length, 2, 'revoke-account -dash: both its login tokens')
    if (name === 'mysql+redis')
      t.same(await introspect(ta, svc.token, dashToken), { active: false }, 'shared cache invalidated')

    const pruned = await cli({ ...env, PRUNE_RETENTION_DAYS: '0' }, 'prune', '--json')
    t.equal(pruned.code, 0, pruned.stderr)
    t.ok(JSON.parse(pruned.stdout).pruned >= 2, 'revoked rows past retention are pruned')
    t.match(
      JSON.parse(pruned.stdout),
      { revocation_events: Number, webhook_rows: Number },
      'the revocation log and the webhook log are pruned by the same command (revocation-log.test.ts: what goes)'
    )
    const gone = await ta.app.authority.database.db
      .selectFrom('tokens')
      .select('id')
      .where('id', 'in', [one.id, two.id, dashed.id])
      .execute()
    t.equal(gone.length, 0)
  })
}

// Loaded into every process of a test run through NODE_OPTIONS (scripts/run-tests.mjs) while the
// suite-wide secret scan is on (SECRET_SCAN_DIR). It does nothing except in the processes the tests
// start from the real entry points — the server (server.ts) and the operator CLI — where it:
//  - turns the server's log level up to debug (the CLI's is fixed at warn), and
//  - copies everything the process writes to stdout/stderr (pino writes through fs.write/writeSync,
//    plain output through process.stdout) into <SECRET_SCAN_DIR>/<pid>-child-<what>.log, and
//  - records the passwords it was given through the environment (BOOTSTRAP_ADMIN_PASSWORD).
// The tests themselves still read the same output; only a copy is taken.
import fs from 'node:fs'
import { join } from 'node:path'

const dir = process.env.SECRET_SCAN_DIR
const script = process.argv[1] ?? ''
const what =
  /services\/authority\/(src\/server\.ts|dist\/.*server\.js)$|dist\/services\/authority\/src\/server\.js$/.test(script)
    ? 'server'
    : /scripts\/authority-cli\.(ts|js)$/.test(script)
      ? 'cli'
      : undefined

if (dir && what) {
  if (what === 'server') process.env.LOG_LEVEL = 'debug'
  const base = join(dir, `${process.pid}-child-${what}`)
  const out = fs.openSync(`${base}.log`, 'a', 0o600)
  const { writeSync, write } = fs
  const copy = (fd, data, encoding) => {
    if (fd !== 1 && fd !== 2) return
    try {
      const bytes =
        typeof data === 'string'
          ? Buffer.from(data, typeof encoding === 'string' ? encoding : 'utf8')
          : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      writeSync.call(fs, out, bytes)
    } catch {
      // never disturb the process under test
    }
  }
  fs.writeSync = (fd, data, ...rest) => {
    copy(fd, data, rest[0])
    return writeSync.call(fs, fd, data, ...rest)
  }
  fs.write = (fd, data, ...rest) => {
    copy(fd, data, rest[0])
    return write.call(fs, fd, data, ...rest)
  }
  for (const [stream, fd] of [
    [process.stdout, 1],
    [process.stderr, 2]
  ]) {
    const original = stream.write.bind(stream)
    stream.write = (chunk, ...rest) => {
      copy(fd, chunk, rest[0])
      return original(chunk, ...rest)
    }
  }
  const passwords = [process.env.BOOTSTRAP_ADMIN_PASSWORD].filter((p) => typeof p === 'string' && p !== '')
  fs.writeFileSync(
    `${base}.secrets.json`,
    JSON.stringify({
      source: `${what} child (${script.replace(`${process.cwd()}/`, '')})`,
      backend: 'child',
      logLevel: what === 'server' ? 'debug' : 'warn',
      tokens: [],
      passwords,
      credentials: [],
      public: []
    }),
    { mode: 0o600 }
  )
}

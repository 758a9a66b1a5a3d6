/**
 * The suite-wide secret scan (issue 7 item 13), run by `npm test` after the whole suite:
 *
 *   tsx scripts/secret-scan.ts <dir>
 *
 * <dir> is what the test run left in SECRET_SCAN_DIR: every backend's dump (`*.dump`: tables, the
 * SQLite file, Redis keys and values), every test authority's debug log (`*.log`, also the logs of
 * the server and CLI processes the tests start) and the secrets each one saw (`*.secrets.json`:
 * token values, passwords, other credentials, and the ordinary values tests sent). Every secret of
 * every test file is searched for in every dump and every log (raw, percent-encoded, form-encoded
 * and JSON-escaped), every log for bcrypt hashes, and every file for anything token-shaped.
 * Prints the counts; exits 1 on any hit, printing only a short prefix of what was found.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

export interface SecretsFile {
  source: string
  backend: string
  logLevel?: string
  tokens: string[]
  passwords: string[]
  credentials: string[]
  public: string[]
}

export interface Hit {
  kind: string
  file: string
  /** a short prefix of what was found, never the whole secret */
  preview: string
  /** the test files that used it */
  sources: string[]
}

export interface ScanReport {
  files: { dumps: number; logs: number; secrets: number; dumpErrors: string[] }
  bytes: { dumps: number; logs: number }
  logLines: number
  debugLogs: number
  searched: { tokens: number; passwords: number; credentials: number; forms: number; sourceFiles: number }
  skipped: { tooShort: number; lowVariety: number; alsoPublic: number }
  publicEchoes: number
  hits: Hit[]
}

const TOKEN_RE = /(?<![A-Za-z0-9_-])[a-z]{2,8}_(?:pat|lgn|svc|xch)_[A-Za-z0-9_-]{132}(?![A-Za-z0-9_-])/g
const BCRYPT_RE = /\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}/g
/** shorter values (or fewer distinct characters) match by chance: "x", "short", "aaaaaaaa" */
const MIN_LENGTH = 8
const MIN_DISTINCT = 4
const WINDOW = 8

export const preview = (s: string): string => `${JSON.stringify(s.slice(0, 6)).slice(1, -1)}… (${s.length} chars)`

/** the forms a secret can take in a log line or a stored value */
export function formsOf(secret: string): string[] {
  const forms = new Set([
    secret,
    encodeURIComponent(secret),
    encodeURIComponent(secret).replace(/%20/g, '+'),
    JSON.stringify(secret).slice(1, -1)
  ])
  return [...forms]
}

interface Pattern {
  bytes: Buffer
  secret: string
  kind: string
}

/** many patterns at once: a hash of each pattern's first 8 bytes, checked at every offset */
class Matcher {
  readonly #byHead = new Map<number, Pattern[]>()
  size = 0

  static head(buf: Buffer, at: number): number {
    return (buf.readUInt32LE(at) ^ Math.imul(buf.readUInt32LE(at + 4), 0x9e3779b1)) >>> 0
  }

  add(p: Pattern): void {
    if (p.bytes.length < WINDOW) return
    const h = Matcher.head(p.bytes, 0)
    const list = this.#byHead.get(h)
    if (list === undefined) this.#byHead.set(h, [p])
    else if (!list.some((q) => q.bytes.equals(p.bytes))) list.push(p)
    else return
    this.size++
  }

  *find(buf: Buffer): Generator<{ at: number; pattern: Pattern }> {
    const last = buf.length - WINDOW
    for (let i = 0; i <= last; i++) {
      const list = this.#byHead.get(Matcher.head(buf, i))
      if (list === undefined) continue
      for (const p of list) {
        if (i + p.bytes.length <= buf.length && buf.compare(p.bytes, 0, p.bytes.length, i, i + p.bytes.length) === 0)
          yield { at: i, pattern: p }
      }
    }
  }
}

export function scan(dir: string): ScanReport {
  const names = readdirSync(dir).sort()
  const report: ScanReport = {
    files: { dumps: 0, logs: 0, secrets: 0, dumpErrors: [] },
    bytes: { dumps: 0, logs: 0 },
    logLines: 0,
    debugLogs: 0,
    searched: { tokens: 0, passwords: 0, credentials: 0, forms: 0, sourceFiles: 0 },
    skipped: { tooShort: 0, lowVariety: 0, alsoPublic: 0 },
    publicEchoes: 0,
    hits: []
  }

  // Every secret any test saw, with the test files that saw it.
  const kinds = ['tokens', 'passwords', 'credentials'] as const
  const secrets = new Map<string, { kind: (typeof kinds)[number]; sources: Set<string> }>()
  const publicValues = new Set<string>()
  const sources = new Set<string>()
  for (const name of names.filter((n) => n.endsWith('.secrets.json'))) {
    const file = JSON.parse(readFileSync(join(dir, name), 'utf8')) as SecretsFile
    report.files.secrets++
    sources.add(file.source)
    if (file.logLevel === 'debug' || file.logLevel === 'trace') report.debugLogs++
    for (const v of file.public) publicValues.add(v)
    for (const kind of kinds) {
      for (const v of file[kind]) {
        const known = secrets.get(v)
        if (known === undefined) secrets.set(v, { kind, sources: new Set([file.source]) })
        else {
          known.sources.add(file.source)
          // a value seen both as a token and as a credential is searched as the stronger kind
          if (kinds.indexOf(kind) < kinds.indexOf(known.kind)) known.kind = kind
        }
      }
    }
  }
  report.searched.sourceFiles = sources.size

  const matcher = new Matcher()
  for (const [secret, { kind }] of secrets) {
    if (secret.length < MIN_LENGTH) {
      report.skipped.tooShort++
      continue
    }
    if (new Set(secret).size < MIN_DISTINCT) {
      report.skipped.lowVariety++
      continue
    }
    if (publicValues.has(secret)) {
      // a test used the same string as a username, a name or a path too: finding it proves nothing
      report.skipped.alsoPublic++
      continue
    }
    report.searched[kind]++
    for (const form of formsOf(secret)) {
      matcher.add({ bytes: Buffer.from(form, 'utf8'), secret, kind: kind.replace(/s$/, '') })
    }
  }
  report.searched.forms = matcher.size

  const sourcesOf = (secret: string): string[] => [...(secrets.get(secret)?.sources ?? [])]
  for (const name of names) {
    const isDump = name.endsWith('.dump')
    const isLog = name.endsWith('.log')
    if (name.endsWith('.dump-error')) report.files.dumpErrors.push(readFileSync(join(dir, name), 'utf8').trim())
    if (!isDump && !isLog) continue
    const buf = readFileSync(join(dir, name))
    if (isDump) {
      report.files.dumps++
      report.bytes.dumps += buf.length
    } else {
      report.files.logs++
      report.bytes.logs += buf.length
      for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) report.logLines++
    }
    const found = new Set<string>()
    for (const { pattern } of matcher.find(buf)) {
      if (found.has(pattern.secret)) continue
      found.add(pattern.secret)
      report.hits.push({
        kind: pattern.kind,
        file: name,
        preview: preview(pattern.secret),
        sources: sourcesOf(pattern.secret)
      })
    }
    const text = buf.toString('latin1')
    for (const m of text.matchAll(TOKEN_RE)) {
      if (found.has(m[0])) continue
      found.add(m[0])
      if (publicValues.has(m[0])) {
        report.publicEchoes++
        continue
      }
      report.hits.push({ kind: 'token-shaped value', file: name, preview: preview(m[0]), sources: sourcesOf(m[0]) })
    }
    if (isLog) {
      for (const m of text.matchAll(BCRYPT_RE))
        report.hits.push({ kind: 'bcrypt hash', file: name, preview: preview(m[0]), sources: [] })
    }
  }
  return report
}

export function format(r: ScanReport): string {
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`
  const lines = [
    `secret scan: ${r.searched.tokens} token values, ${r.searched.passwords} passwords and ${r.searched.credentials} other credentials ` +
      `(${r.searched.forms} forms: raw, percent-, form- and JSON-encoded) from ${r.searched.sourceFiles} test files`,
    `  searched in ${r.files.dumps} backend dumps (${mb(r.bytes.dumps)}) and ${r.files.logs} logs (${mb(r.bytes.logs)}, ${r.logLines} lines; ` +
      `${r.debugLogs} of ${r.files.secrets} recorders at debug level), plus token-shaped values everywhere and bcrypt hashes in logs`,
    `  not searched: ${r.skipped.tooShort} values under ${MIN_LENGTH} characters, ${r.skipped.lowVariety} with under ${MIN_DISTINCT} distinct characters, ` +
      `${r.skipped.alsoPublic} also sent as a username, name or path; ${r.publicEchoes} token-shaped values that tests sent in ordinary fields`
  ]
  for (const e of r.files.dumpErrors) lines.push(`  dump failed (not scanned): ${e}`)
  lines.push(`  hits: ${r.hits.length}`)
  for (const h of r.hits.slice(0, 50))
    lines.push(
      `  HIT ${h.kind} in ${h.file}: ${h.preview}${h.sources.length > 0 ? ` (from ${h.sources.join(', ')})` : ''}`
    )
  if (r.hits.length > 50) lines.push(`  … and ${r.hits.length - 50} more`)
  return lines.join('\n')
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = process.argv[2]
  if (dir === undefined) {
    process.stderr.write('usage: tsx scripts/secret-scan.ts <SECRET_SCAN_DIR>\n')
    process.exit(2)
  }
  const report = scan(dir)
  process.stdout.write(`${format(report)}\n`)
  if (report.files.dumps === 0 || report.files.secrets === 0) {
    process.stderr.write('secret scan: nothing to scan (was the suite run with SECRET_SCAN_DIR set?)\n')
    process.exit(1)
  }
  process.exit(report.hits.length > 0 ? 1 : 0)
}

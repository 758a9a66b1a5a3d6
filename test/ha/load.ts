import type { FastifyInstance } from 'fastify'
import { ADMIN, bearer, createAccount, createService, type TestAuthority } from '../support/authority.js'

/**
 * Introspection + revoke load over several authority processes (apps in this test process,
 * through the whole Fastify pipeline), recording every answer so a wrong one can be found: an
 * introspection that started after a revoke of that token had returned, yet answered active.
 */

export interface Minted {
  id: string
  value: string
}

/** A service holding tokens:introspect + tokens:revoke (`svc`, its token) and `n` tokens of one account (`ownerId`). */
export async function mintTokens(
  ta: TestAuthority,
  n: number
): Promise<{ svc: string; ownerId: string; tokens: Minted[] }> {
  const svc = await createService(ta, 'ha-introspector', ['tokens:introspect', 'tokens:revoke'])
  const ownerId = await createAccount(ta, {
    username: 'ha-owner',
    password: 'ha-owner-password-1',
    kind: 'service',
    permissions: ['tokens:introspect']
  })
  const tokens: Minted[] = []
  for (let i = 0; i < n; i++) {
    const res = await ta.app.inject({
      method: 'POST',
      url: `/v1/accounts/${ownerId}/tokens`,
      headers: bearer(ta.adminToken),
      payload: { name: `load ${i}`, scopes: ['tokens:introspect'], password: ADMIN.password }
    })
    if (res.statusCode !== 201) throw new Error(`mint failed: ${res.statusCode} ${res.body}`)
    tokens.push({ id: res.json().token.id as string, value: res.json().access_token as string })
  }
  return { svc: svc.token, ownerId, tokens }
}

export interface LoadReport {
  introspections: number
  introspectionErrors: number
  errorStatuses: Record<string, number>
  revokes: number
  revokeErrors: number
  /** active answers to introspections that started after the token's revoke returned: must be 0 */
  wrongAnswers: number
  /** introspections per second, median over 1-second buckets */
  medianPerSecond: number
  /** per 1-second bucket since the start: [served, errors] */
  perSecond: Array<[number, number]>
  /** revoked tokens whose last answer (after the run) is still active: must be 0 */
  revokedStillActive: number
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? 0 : (s[Math.floor((s.length - 1) / 2)]! + s[Math.ceil((s.length - 1) / 2)]!) / 2
}

/**
 * Runs `workers` introspection loops and one revoker (one token every `revokeEveryMs`) over
 * `apps` until `until()` resolves; `during` runs alongside (the fault).
 */
export async function runLoad(o: {
  apps: FastifyInstance[]
  svc: string
  tokens: Minted[]
  workers: number
  revokeEveryMs: number
  durationMs: number
  during?: (startedAt: number) => Promise<void>
  /** called when a revoke has returned 200 (`at`: when it returned, the ground truth wrong answers are counted against) */
  onRevoke?: (token: Minted, at: number) => void
}): Promise<LoadReport> {
  const revokedAt = new Map<number, number>()
  const startedAt = Date.now()
  const stopAt = startedAt + o.durationMs
  const buckets: Array<[number, number]> = []
  const bucket = (at: number) => {
    const i = Math.floor((at - startedAt) / 1000)
    while (buckets.length <= i) buckets.push([0, 0])
    return buckets[i]!
  }
  const report: LoadReport = {
    introspections: 0,
    introspectionErrors: 0,
    errorStatuses: {},
    revokes: 0,
    revokeErrors: 0,
    wrongAnswers: 0,
    medianPerSecond: 0,
    perSecond: buckets,
    revokedStillActive: 0
  }
  let next = 0
  const worker = async (w: number) => {
    let n = w
    while (Date.now() < stopAt) {
      n++
      const idx = (n * 7919 + w) % o.tokens.length
      const app = o.apps[n % o.apps.length]!
      const began = Date.now()
      const res = await app.inject({
        method: 'POST',
        url: '/introspect',
        headers: bearer(o.svc),
        payload: { token: o.tokens[idx]!.value }
      })
      const b = bucket(Date.now())
      if (res.statusCode !== 200) {
        report.introspectionErrors++
        report.errorStatuses[res.statusCode] = (report.errorStatuses[res.statusCode] ?? 0) + 1
        b[1]++
        await new Promise((r) => setTimeout(r, 5))
        continue
      }
      report.introspections++
      b[0]++
      const active = (res.json() as { active: boolean }).active
      const revoked = revokedAt.get(idx)
      if (active && revoked !== undefined && began > revoked) report.wrongAnswers++
      // let the event loop breathe (timers, the fault, Redis events)
      if (n % 20 === 0) await new Promise((r) => setImmediate(r))
    }
  }
  const revoker = async () => {
    while (Date.now() < stopAt && next < o.tokens.length) {
      const idx = next++
      const app = o.apps[idx % o.apps.length]!
      const res = await app.inject({
        method: 'POST',
        url: '/revoke',
        headers: bearer(o.svc),
        payload: { token: o.tokens[idx]!.value }
      })
      if (res.statusCode === 200) {
        const at = Date.now()
        revokedAt.set(idx, at)
        report.revokes++
        o.onRevoke?.(o.tokens[idx]!, at)
      } else {
        report.revokeErrors++
        next-- // try that one again
      }
      await new Promise((r) => setTimeout(r, o.revokeEveryMs))
    }
  }
  await Promise.all([
    ...Array.from({ length: o.workers }, (_, w) => worker(w)),
    revoker(),
    o.during?.(startedAt) ?? Promise.resolve()
  ])
  report.medianPerSecond = median(buckets.slice(0, -1).map(([s]) => s))
  // after the run: every revoked token is inactive on every process
  for (const [idx] of revokedAt) {
    for (const app of o.apps) {
      const res = await app.inject({
        method: 'POST',
        url: '/introspect',
        headers: bearer(o.svc),
        payload: { token: o.tokens[idx]!.value }
      })
      if (res.statusCode === 200 && (res.json() as { active: boolean }).active) report.revokedStillActive++
    }
  }
  return report
}

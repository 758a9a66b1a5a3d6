/**
 * Schema-driven fuzzing of EVERY operation in the committed openapi/openapi.json (issue 7, item 9).
 *
 * The fast-check arbitraries are built here from the document's own JSON schemas ($ref, type, enum,
 * const, lengths, pattern, format, bounds, required, additionalProperties, anyOf/oneOf, arrays),
 * with hints that aim them at real state (seeded and learned token ids, account ids, token values,
 * the caller's own password), and mixed with schema-VIOLATING variants: wrong types, missing
 * required fields, extra properties, oversize values, non-objects, garbage bytes, invalid JSON,
 * wrong or missing content types, bodies past the size limit, malformed path segments and query
 * strings, and hostile credentials. Every request goes through app.inject to a real authority on
 * each backend, as a fuzzing admin, a customer, a service (tokens:introspect), a pooled PAT, no one,
 * or garbage. For each response:
 *   - status < 500;
 *   - the status is declared for the operation (or '4XX'/'default' when declared);
 *   - the body validates (Ajv + ajv-formats) against the declared schema for that status and
 *     content type.
 *
 * Destructive requests are welcome (the fuzzing admin may revoke its own token, change its own
 * password or permissions, disable the customer and the service...): after each change the
 * principals are checked and repaired by a root admin the fuzz never holds (from an address of
 * its own), so the fuzz keeps reaching the deep paths; each operation must answer 2xx, 400 and
 * (when secured) 401 at least once per backend.
 *
 * What it found (fixed in the service, not here):
 *   - a malformed percent-encoding in the path (`/v1/tokens/%`) answered Fastify's own 400 body
 *     ({error, code: 'FST_ERR_BAD_URL', message, statusCode}: no requestId, a code outside the
 *     Error enum);
 *   - a path parameter longer than the router's maxParamLength answered an undocumented 414 with
 *     the same foreign body (FST_ERR_MAX_PARAM_LENGTH).
 *   Both now go through `frameworkErrors` to the one Error shape: 400 invalid_request and 400
 *   validation_failed.
 *
 * Under CI the seed is fixed (518343519, the run that found the coerced-username scan miss); elsewhere
 * it is drawn per run. FUZZ_SEED=<n> regenerates a run's requests (the seed is printed; with 4 requests in flight the
 * server's state, and so some answers, may differ); FUZZ_RUNS=<n> sets the requests per backend.
 */
import fc from 'fast-check'
import t from 'tap'
import { startAuthority } from '../support/authority.js'
import { BACKEND_NAMES } from '../support/backends.js'
import { OPERATIONS, type Operation } from '../support/fuzz/document.js'
import { type RequestGen, requestArb } from '../support/fuzz/arbitraries.js'
import { type Problem, build, check } from '../support/fuzz/send.js'
import { ensurePrincipals, freshPrincipals, learn, seed } from '../support/fuzz/principals.js'

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

// CI replays one fixed seed (a landing must not hinge on a draw); elsewhere each run draws its own
const SEED =
  process.env.FUZZ_SEED !== undefined
    ? Number(process.env.FUZZ_SEED)
    : process.env.CI
      ? 518343519
      : Math.floor(Math.random() * 2 ** 31)
const RUNS = Number(process.env.FUZZ_RUNS ?? 4000)
const CONCURRENCY = 4
/** operations with no input at all (probes, the document) need far fewer requests */
const weightOf = (op: Operation) =>
  op.pathParams.length + op.queryParams.length + Object.keys(op.bodies).length === 0 && !op.secured ? 1 : 4

t.comment(`fuzz seed ${SEED} (FUZZ_SEED=${SEED} replays the generated requests), ${RUNS} requests per backend`)

t.test('the fuzzer covers every operation of the committed document', async (t) => {
  t.ok(OPERATIONS.length >= 25, `${OPERATIONS.length} operations`)
  t.same(
    OPERATIONS.filter((o) => Object.keys(o.responses).length === 0).map((o) => o.id),
    [],
    'each declares responses'
  )
})

t.test('the response checker rejects what it should (it is not vacuous)', async (t) => {
  const op = (id: string) => OPERATIONS.find((o) => o.id === id)!
  const json = 'application/json; charset=utf-8'
  const fastifyOwn = JSON.stringify({ error: 'Bad Request', code: 'FST_ERR_BAD_URL', message: 'x', statusCode: 400 })
  const error = (status: number, code: string) =>
    JSON.stringify({ statusCode: status, code, error: 'e', message: 'm', requestId: 'r' })
  t.equal(check(op('getToken'), 414, json, fastifyOwn)?.kind, 'undocumented status')
  t.equal(check(op('getToken'), 400, json, fastifyOwn)?.kind, 'schema')
  t.equal(check(op('getToken'), 400, json, error(400, 'no_such_code'))?.kind, 'schema')
  t.equal(check(op('getToken'), 200, json, '{"id":"x"}')?.kind, 'schema')
  t.equal(check(op('getToken'), 500, json, error(500, 'internal_error'))?.kind, '5xx')
  t.equal(check(op('healthz'), 401, json, error(401, 'unauthorized'))?.kind, 'undocumented status')
  t.equal(check(op('healthz'), 200, 'text/plain; charset=utf-8', 'ok')?.kind, 'undocumented content type')
  t.equal(check(op('getToken'), 404, json, error(404, 'not_found')), null)
  t.equal(check(op('healthz'), 200, json, '{"status":"ok","checks":{}}'), null)
  t.equal(check(op('readyz'), 200, json, '{"status":"ok","checks":{"database":"ok"}}'), null)
  t.equal(
    check(op('readyz'), 503, json, '{"status":"fail","checks":{}}')?.kind,
    '5xx',
    'any 5xx counts, a declared one too'
  )
})

for (const backend of BACKEND_NAMES()) {
  t.test(`schema-driven fuzz of every operation on ${backend}`, async (t) => {
    // no webhook deliveries: endpoints the fuzz registers would have the worker POST to example hosts
    const ta = await startAuthority(t, backend, { env: { WEBHOOK_POLL_MS: '0' } })
    const s = await seed(ta.app)
    const started = Date.now()

    // the requests: each operation's share, interleaved so state changes spread over the run
    const totalWeight = OPERATIONS.reduce((n, op) => n + weightOf(op), 0)
    const perOp = OPERATIONS.map((op, i) => {
      const n = Math.max(20, Math.round((RUNS * weightOf(op)) / totalWeight))
      return fc
        .sample(requestArb(op), { numRuns: n, seed: SEED + i + (backend === 'embedded' ? 0 : 7919) })
        .map((g) => [op, g] as const)
    })
    const queue: (readonly [Operation, RequestGen])[] = []
    for (let i = 0; perOp.some((l) => i < l.length); i++) for (const l of perOp) if (i < l.length) queue.push(l[i]!)

    const stats = new Map<string, { n: number; statuses: Map<number, number> }>(
      OPERATIONS.map((op) => [op.id, { n: 0, statuses: new Map() }])
    )
    const labels = new Map<string, number>()
    const problems: Problem[] = []
    let next = 0
    const worker = async () => {
      while (next < queue.length) {
        const [op, g] = queue[next++]!
        const sent = build(op, g, s)
        let status = 0
        let body = ''
        let contentType: string | undefined
        try {
          const res = await ta.app.inject({
            method: sent.method as 'GET',
            url: sent.url,
            headers: sent.headers,
            remoteAddress: g.ip,
            ...(sent.payload !== undefined ? { payload: sent.payload } : {})
          })
          status = res.statusCode
          body = res.body
          contentType = res.headers['content-type'] as string | undefined
        } catch (err) {
          problems.push({
            kind: 'inject error',
            op: op.id,
            status: 0,
            label: g.label,
            request: `${sent.method} ${sent.url}`,
            response: String(err)
          })
          continue
        }
        const st = stats.get(op.id)!
        st.n++
        st.statuses.set(status, (st.statuses.get(status) ?? 0) + 1)
        for (const l of g.label.split(',')) labels.set(l, (labels.get(l) ?? 0) + 1)
        const problem = check(op, status, contentType, body)
        if (problem) {
          const payload = sent.payload === undefined ? '' : ` ${String(sent.payload).slice(0, 300)}`
          problems.push({
            ...problem,
            op: op.id,
            label: g.label,
            request: `${sent.method} ${sent.url.slice(0, 300)}${payload}`,
            response: body.slice(0, 300)
          })
        }
        learn(op, sent, status, body, s)
        const usedPrincipal = ['admin', 'customer', 'service', 'service-basic', 'query-token'].includes(g.cred.kind)
        if ((status >= 200 && status < 300 && op.method !== 'GET') || (status === 401 && usedPrincipal))
          await ensurePrincipals(s)
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker))
    // Some operations succeed only through a narrow door (an admin, the right password, a target
    // within the caller's reach, a date within the lifetime policy): one with no 2xx yet gets up to
    // three more rounds of its own requests (still seeded), so "answered 2xx" does not hinge on luck.
    const no2xxYet = () =>
      OPERATIONS.filter((op) => ![...stats.get(op.id)!.statuses.keys()].some((k) => k >= 200 && k < 300))
    for (let round = 1; round <= 3 && no2xxYet().length > 0; round++) {
      const missing = no2xxYet()
      t.comment(`top-up round ${round}: ${missing.map((op) => op.id).join(', ')}`)
      await freshPrincipals(s, round)
      for (const op of missing) {
        const i = OPERATIONS.indexOf(op)
        queue.push(
          ...fc
            .sample(requestArb(op), {
              numRuns: 150,
              seed: SEED + i + round * 104729 + (backend === 'embedded' ? 0 : 7919)
            })
            .map((g) => [op, g] as const)
        )
      }
      await Promise.all(Array.from({ length: CONCURRENCY }, worker))
    }
    const seconds = (Date.now() - started) / 1000

    const total = [...stats.values()].reduce((n, x) => n + x.n, 0)
    t.comment(
      `${backend}: ${total} requests in ${seconds.toFixed(1)} s (${Math.round(total / seconds)}/s), ${s.repairs} principal repairs, seed ${SEED}`
    )
    for (const op of OPERATIONS) {
      const st = stats.get(op.id)!
      const by = [...st.statuses]
        .sort((a, b) => a[0] - b[0])
        .map(([k, v]) => `${k}×${v}`)
        .join(' ')
      t.comment(`  ${op.id.padEnd(20)} ${String(st.n).padStart(4)}  ${by}`)
    }
    t.comment(
      `  variants: ${[...labels]
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`
    )

    const show = (kind: Problem['kind']) => {
      const found = problems.filter((p) => p.kind === kind)
      const distinct = new Map<string, Problem>()
      for (const p of found) distinct.set(`${p.op} ${p.status} ${p.detail ?? ''}`, p)
      return { count: found.length, examples: [...distinct.values()].slice(0, 8) }
    }
    t.same(show('inject error'), { count: 0, examples: [] }, 'every request was sent')
    t.same(show('5xx'), { count: 0, examples: [] }, 'zero 5xx')
    t.same(show('undocumented status'), { count: 0, examples: [] }, 'zero undocumented statuses')
    t.same(show('undocumented content type'), { count: 0, examples: [] }, 'zero undocumented content types')
    t.same(show('schema'), { count: 0, examples: [] }, 'every response body matches its declared schema')

    t.ok(total >= RUNS * 0.9, `${total} requests ran`)
    // the fuzz reached past the front door of every operation, and was turned away at it too
    const no2xx = OPERATIONS.filter(
      (op) => ![...stats.get(op.id)!.statuses.keys()].some((k) => k >= 200 && k < 300)
    ).map((op) => op.id)
    t.same(no2xx, [], 'every operation answered 2xx at least once')
    const no401 = OPERATIONS.filter((op) => op.secured && !stats.get(op.id)!.statuses.has(401)).map((op) => op.id)
    t.same(no401, [], 'every secured operation refused a bad credential (401) at least once')
    const no400 = OPERATIONS.filter(
      (op) => op.responses['400'] !== undefined && !stats.get(op.id)!.statuses.has(400)
    ).map((op) => op.id)
    t.same(no400, [], 'every operation with inputs rejected bad input (400) at least once')
  })
}

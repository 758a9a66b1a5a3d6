import Fastify from 'fastify'
import t from 'tap'
import { registerLoadShedding } from '../../services/authority/src/load-shedding.js'

/** Keeps the event loop stuck for `ms`, letting timers run (late) every 250 ms, as a busy process does. */
async function stall(ms: number): Promise<void> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    const chunk = Math.min(until, Date.now() + 250)
    while (Date.now() < chunk) {
      // busy: the event loop is stuck here
    }
    await new Promise((r) => setImmediate(r))
  }
}

async function shedderApp(t: { teardown(fn: () => unknown): void }, sustainedMs: number) {
  const app = Fastify()
  const shedder = registerLoadShedding(app, {
    maxDelayMs: 100,
    sampleIntervalMs: 250,
    sustainedMs,
    onShed: (_request, reply) => void reply.code(503).send({ shed: true })
  })
  app.get('/work', async () => ({ ok: true }))
  app.get('/probe', { config: { neverShed: true } }, async () => ({ ok: true }))
  await app.ready()
  t.teardown(() => app.close())
  return { app, shedder }
}

t.test('a stall shorter than the window (a burst being worked off) is answered, not shed', async (t) => {
  const { app, shedder } = await shedderApp(t, 3000)
  await stall(1250)
  t.equal(shedder.overloaded(), false, 'not overloaded after a 1.25 s stall with a 3 s window')
  t.equal((await app.inject({ url: '/work' })).statusCode, 200)
})

t.test('a stall held past the window (sustained overload) is shed; probes still answer', async (t) => {
  const { app, shedder } = await shedderApp(t, 500)
  await stall(1500)
  t.equal(shedder.overloaded(), true, 'overloaded after a 1.5 s stall with a 0.5 s window')
  t.equal((await app.inject({ url: '/work' })).statusCode, 503)
  t.equal((await app.inject({ url: '/probe' })).statusCode, 200, 'neverShed routes are answered')
})

t.test('shedding stops once the delay is back under the limit', async (t) => {
  const { app, shedder } = await shedderApp(t, 500)
  await stall(1500)
  t.equal(shedder.overloaded(), true)
  // idle: the next samples see no delay
  await new Promise((r) => setTimeout(r, 700))
  t.equal(shedder.overloaded(), false)
  t.equal((await app.inject({ url: '/work' })).statusCode, 200)
})

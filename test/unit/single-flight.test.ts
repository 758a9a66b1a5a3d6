import t from 'tap'
import { SingleFlight } from '../../services/authority/src/single-flight.js'

/** A load whose promise the test settles. */
function deferred<T>() {
  let resolve!: (v: T) => void
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

t.test('concurrent callers of one key share one flight', async (t) => {
  const flight = new SingleFlight<number>()
  const d = deferred<number>()
  let calls = 0
  const load = () => {
    calls++
    return d.promise
  }
  const a = flight.run('k', load)
  const b = flight.run('k', load)
  t.equal(a, b, 'the second caller got the running promise')
  d.resolve(1)
  t.same(await Promise.all([a, b]), [1, 1])
  t.equal(calls, 1, 'one load')
})

t.test('a caller that may not join (mayJoin false) starts a flight of its own, which later callers join', async (t) => {
  const flight = new SingleFlight<number>()
  const first = deferred<number>()
  const second = deferred<number>()
  const loads = [first, second]
  let calls = 0
  const load = () => loads[calls++]!.promise
  const a = flight.run('k', load)
  // e.g. a request that began after the running read had already finished (introspection.ts)
  const b = flight.run('k', load, () => false)
  t.not(a, b, 'a new flight')
  const c = flight.run('k', load, () => true)
  t.equal(c, b, 'the next caller joins the newest flight')
  first.resolve(1)
  second.resolve(2)
  t.same(await Promise.all([a, b, c]), [1, 2, 2])
  t.equal(calls, 2)
  t.equal(flight.size, 0, 'both flights ended')
})

t.test('nothing is kept once a flight settles: the next caller reads again', async (t) => {
  const flight = new SingleFlight<number>()
  let n = 0
  const load = async () => ++n
  t.equal(await flight.run('k', load), 1)
  t.equal(await flight.run('k', load), 2)
  t.equal(flight.size, 0)
})

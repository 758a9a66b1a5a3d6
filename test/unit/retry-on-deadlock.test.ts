import t from 'tap'
import { retryOnDeadlock } from '../../services/authority/src/db/fault-policy.js'

/** InnoDB's deadlock victim is rolled back whole: token creation runs it again (a burst is not a 409). */
const deadlock = () => Object.assign(new Error('Deadlock found when trying to get lock'), { code: 'ER_LOCK_DEADLOCK' })

t.test('a deadlock victim is run again, and its second run answers', async (t) => {
  let runs = 0
  const got = await retryOnDeadlock(async () => {
    runs++
    if (runs === 1) throw deadlock()
    return 'created'
  })
  t.equal(got, 'created')
  t.equal(runs, 2)
})

t.test('at most `attempts` runs: the last deadlock goes on (to the fault policy: 409)', async (t) => {
  let runs = 0
  await t.rejects(
    retryOnDeadlock(async () => {
      runs++
      throw deadlock()
    }, 3),
    { code: 'ER_LOCK_DEADLOCK' }
  )
  t.equal(runs, 3)
})

t.test('any other failure is not repeated', async (t) => {
  let runs = 0
  await t.rejects(
    retryOnDeadlock(async () => {
      runs++
      throw Object.assign(new Error('gone'), { code: 'ECONNRESET' })
    }),
    { code: 'ECONNRESET' }
  )
  t.equal(runs, 1, 'a refused or broken run is not sent twice')
})

import t from 'tap'
import { frozenClock } from '../../services/authority/src/clock.js'
import {
  onPresented,
  overlapEnd,
  type RotationFields,
  reuseArmedAt,
  rotationState,
  stoppedAt
} from '../../services/authority/src/tokens/rotation.js'

/**
 * The rotation state rules of services/authority/src/tokens/rotation.ts (what
 * test/features/rotation.test.ts reaches through HTTP), on a frozen clock: no app, no database.
 */

const START = Date.UTC(2026, 0, 1, 12, 0, 0)

/** without a grace: reuse armed as soon as a value stopped (past an overlap's scheduled end) */
const present = (f: RotationFields, now: number, graceMs = 0) => onPresented(f, now, graceMs)

const live: RotationFields = {
  replacedBy: null,
  revokedAt: null,
  revokedReason: null,
  expiresAt: null,
  rotationEndsAt: null,
  supersedesUntil: null
}

t.test('a token never rotated: none, and presenting it sets nothing off', async (t) => {
  const clock = frozenClock(START)
  t.equal(rotationState(live, clock.now()), 'none')
  t.equal(present(live, clock.now()), null)
  const revoked = { ...live, revokedAt: START, revokedReason: 'revoked' }
  t.equal(rotationState(revoked, clock.now()), 'none', 'revoked by a person, no successor')
  t.equal(present(revoked, clock.now()), null)
})

t.test('regenerated with an overlap: superseded until the end, then stopped (no write needed)', async (t) => {
  const clock = frozenClock(START)
  const old = { ...live, replacedBy: 'next', rotationEndsAt: overlapEnd(clock.now(), 60) }
  t.equal(rotationState(old, clock.now()), 'superseded')
  t.equal(present(old, clock.now()), null, 'presenting it during the overlap is fine')
  clock.advance(59_999)
  t.equal(rotationState(old, clock.now()), 'superseded')
  clock.advance(1)
  t.equal(rotationState(old, clock.now()), 'stopped', 'stopped at the end exactly')
  t.equal(present(old, clock.now()), 'reuse')
})

t.test('stopped early (the successor was used), or regenerated without an overlap: stopped', async (t) => {
  const now = START
  t.equal(rotationState({ ...live, replacedBy: 'next', revokedAt: now, revokedReason: 'rotated' }, now), 'stopped')
  t.equal(rotationState({ ...live, replacedBy: 'next', revokedAt: now, revokedReason: 'regenerated' }, now), 'stopped')
  t.equal(present({ ...live, replacedBy: 'next', revokedAt: now, revokedReason: 'regenerated' }, now), 'reuse')
})

t.test('after a reuse, or a revoke by a person, presenting the value again sets nothing off', async (t) => {
  const now = START
  const reused = { ...live, replacedBy: 'next', revokedAt: now, revokedReason: 'reuse_detected' }
  t.equal(rotationState(reused, now), 'none')
  t.equal(present(reused, now), null)
  const byPerson = { ...live, replacedBy: 'next', revokedAt: now, revokedReason: 'revoked' }
  t.equal(present(byPerson, now), null)
})

t.test('an expired value is never reuse', async (t) => {
  const clock = frozenClock(START)
  const old = { ...live, replacedBy: 'next', revokedAt: START, revokedReason: 'regenerated', expiresAt: START + 1000 }
  t.equal(present(old, clock.now()), 'reuse')
  clock.advance(1000)
  t.equal(present(old, clock.now()), null)
})

t.test(
  'a successor whose predecessor is in its overlap: its first use ends it, until the overlap is over',
  async (t) => {
    const clock = frozenClock(START)
    const next = { ...live, supersedesUntil: overlapEnd(clock.now(), 60) }
    t.equal(present(next, clock.now()), 'end_overlap')
    t.equal(rotationState(next, clock.now()), 'none', 'the successor itself is not rotated away')
    clock.advance(60_000)
    t.equal(present(next, clock.now()), null, 'over by itself: nothing to end')
    t.equal(present({ ...next, supersedesUntil: null }, START), null, 'ended already')
    t.equal(
      present({ ...next, revokedAt: START, revokedReason: 'revoked' }, START),
      null,
      'a revoked successor ends nothing'
    )
  }
)

t.test('reuse is armed a grace after the stop, and never before the overlap’s scheduled end', async (t) => {
  const clock = frozenClock(START)
  const grace = 60_000
  const plain = { ...live, replacedBy: 'next', revokedAt: START, revokedReason: 'regenerated' }
  t.equal(reuseArmedAt(plain, grace), START + grace)
  t.equal(present(plain, clock.now(), grace), null, 'a request in flight when the client switched')
  clock.advance(grace)
  t.equal(present(plain, clock.now(), grace), 'reuse')
  // stopped early by the successor's first use, 10 s into a one-hour overlap
  const early = {
    ...live,
    replacedBy: 'next',
    revokedAt: START + 10_000,
    revokedReason: 'rotated',
    rotationEndsAt: overlapEnd(START, 3600)
  }
  t.equal(stoppedAt(early), START + 10_000)
  t.equal(reuseArmedAt(early, grace), START + 3_600_000, 'the overlap the client asked for')
  t.equal(present(early, START + 3_599_999, grace), null, 'a replica still rolling over: revoked, not reuse')
  t.equal(present(early, START + 3_600_000, grace), 'reuse')
  // the overlap ran out unused
  const lapsed = { ...live, replacedBy: 'next', rotationEndsAt: overlapEnd(START, 60) }
  t.equal(reuseArmedAt(lapsed, grace), START + 60_000 + grace)
  t.equal(present(lapsed, START + 60_000, grace), null)
  t.equal(present(lapsed, START + 120_000, grace), 'reuse')
  t.equal(reuseArmedAt(live, grace), null, 'never stopped')
})

t.test('overlapEnd: whole seconds from now', async (t) => {
  t.equal(overlapEnd(START + 999, 10), START + 10_000)
  t.equal(overlapEnd(START, 0), START)
})

/**
 * Rotation states (docs/tokens.md, "Rotation"), as pure rules over a token's row: no I/O, the
 * time given, so they are unit-tested on a frozen clock (test/unit/rotation.test.ts).
 *
 *   active ──regenerate with overlap──▶ superseded ──overlap ends / successor first used──▶ stopped
 *   active ──regenerate (no overlap)──────────────────────────────────────────────────────▶ stopped
 *   stopped ──value presented again, once armed──▶ reuse: the family (it and every later successor) revoked
 *
 * Reuse is armed a grace after the stop (ROTATION_REUSE_GRACE_SECONDS), and never before the
 * overlap's scheduled end: requests already in flight with the old value when the client switched,
 * and the replicas of a client still rolling over within the overlap it asked for, get `revoked`
 * (the old value is dead at once) without taking the new value down with them.
 */

/** revoked_reason of a value that a rotation stopped (not one a person revoked) */
export const REGENERATED = 'regenerated'
/** its overlap ended early: the successor was used */
export const ROTATED = 'rotated'
export const REUSE_DETECTED = 'reuse_detected'
const STOPPED_BY_ROTATION: ReadonlySet<string> = new Set([REGENERATED, ROTATED])

/** What the rules read of a token (unix ms). */
export interface RotationFields {
  replacedBy: string | null
  revokedAt: number | null
  revokedReason: string | null
  expiresAt: number | null
  /** set on a token regenerated with an overlap: its value works until then */
  rotationEndsAt: number | null
  /** set on the successor while its predecessor's overlap is open */
  supersedesUntil: number | null
}

/**
 * - `none`: not rotated away (live, or revoked, expired for reasons of its own);
 * - `superseded`: regenerated with an overlap that is still open: the value still works;
 * - `stopped`: rotated away (overlap over, ended by the successor's first use, or no overlap):
 *   presenting it again is reuse.
 */
export type RotationState = 'none' | 'superseded' | 'stopped'

export function rotationState(t: RotationFields, now: number): RotationState {
  if (t.replacedBy === null) return 'none'
  if (t.revokedAt !== null)
    return t.revokedReason !== null && STOPPED_BY_ROTATION.has(t.revokedReason) ? 'stopped' : 'none'
  if (t.rotationEndsAt === null) return 'none'
  return t.rotationEndsAt > now ? 'superseded' : 'stopped'
}

/** An overlap is open on this token's value (it still works until `rotationEndsAt`). */
export function inOverlap(t: RotationFields, now: number): boolean {
  return rotationState(t, now) === 'superseded'
}

/** When a value stopped by a rotation (rotationState `stopped`) stopped. */
export function stoppedAt(t: RotationFields): number | null {
  return t.revokedAt ?? t.rotationEndsAt
}

/**
 * From when presenting a stopped value is reuse: `graceMs` after it stopped, and not before the
 * overlap's scheduled end (an early stop keeps that end in `rotationEndsAt`).
 */
export function reuseArmedAt(t: RotationFields, graceMs: number): number | null {
  const stopped = stoppedAt(t)
  if (stopped === null) return null
  return Math.max(stopped + graceMs, t.rotationEndsAt ?? 0)
}

/**
 * What presenting a token's value (whose hash matched) sets off, on the database read behind a
 * cache miss:
 * - `reuse`: the value was rotated away, reuse is armed, and it is not expired: revoke the family;
 * - `end_overlap`: this is a successor whose predecessor's overlap is open: end it now;
 * - null: nothing (every other token: the hot path's common case).
 */
export function onPresented(t: RotationFields, now: number, graceMs: number): 'reuse' | 'end_overlap' | null {
  if (t.expiresAt !== null && t.expiresAt <= now) return null
  if (rotationState(t, now) === 'stopped') return now >= (reuseArmedAt(t, graceMs) ?? Infinity) ? 'reuse' : null
  if (t.revokedAt === null && t.supersedesUntil !== null && t.supersedesUntil > now) return 'end_overlap'
  return null
}

/** When an overlap of `overlapSeconds` started at `now` ends: whole seconds (introspection speaks seconds). */
export function overlapEnd(now: number, overlapSeconds: number): number {
  return (Math.floor(now / 1000) + overlapSeconds) * 1000
}

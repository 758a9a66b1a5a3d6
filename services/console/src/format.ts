import type { Token } from './api.ts'
import { dateInputValue, endOfDay } from './expiry.ts'

const DAY = 86_400_000
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' })

export function absolute(iso: string): string {
  return dateTime.format(new Date(iso))
}

/** "in 3 days", "2 hours ago" */
export function fromNow(iso: string, now = Date.now()): string {
  const ms = new Date(iso).getTime() - now
  const abs = Math.abs(ms)
  if (abs < 60_000) return relative.format(Math.round(ms / 1000), 'second')
  if (abs < 3_600_000) return relative.format(Math.round(ms / 60_000), 'minute')
  if (abs < DAY) return relative.format(Math.round(ms / 3_600_000), 'hour')
  return relative.format(Math.round(ms / DAY), 'day')
}

/** an active token expiring within a week is worth a warning (sign-in sessions are short by design) */
export function expiresSoon(t: Token, now = Date.now()): boolean {
  if (t.state !== 'active' || t.expires_at === null || t.kind === 'lgn') return false
  return new Date(t.expires_at).getTime() - now < 7 * DAY
}

/** the preset's name when the token was made from one, else a short list of its scopes */
export function scopeSummary(t: Token): string {
  if (t.scopes === null) return 'all of the account’s permissions'
  if (t.preset) return `preset: ${t.preset}`
  if (t.scopes.length <= 2) return t.scopes.join(', ')
  return `${t.scopes.slice(0, 2).join(', ')} +${t.scopes.length - 2} more`
}

/** the last recorded use (`Token.last_used`, written behind by the authority), or null: never used */
export function lastUsedOf(t: Token): Token['last_used'] {
  return t.last_used ?? null
}

/** who used it, in words: "from 203.0.113.7 · curl/8.5 · by a service" (each part only when known) */
export function lastUsedDetail(used: NonNullable<Token['last_used']>): string {
  const parts: string[] = []
  if (used.address) parts.push(`from ${used.address}`)
  if (used.user_agent) parts.push(used.user_agent)
  if (used.caller) parts.push('checked by a service')
  return parts.join(' · ')
}

/** why a token was revoked, for people (`revoked_reason`); unknown reasons are shown as sent, as text */
const REVOKED_REASONS: Record<string, string> = {
  revoked: 'revoked by a person',
  regenerated: 'replaced when it was regenerated',
  rotated: 'replaced when it was rotated',
  reuse_detected: 'revoked because an old, replaced value was used again (possible theft)',
  leaked: 'revoked because it was reported as leaked',
  expired: 'expired',
  password_changed: 'revoked when the password was changed',
  account_disabled: 'revoked when the account was disabled',
  revoked_by_selector: 'revoked in a bulk clean-up by an administrator',
  revoke_before: 'revoked with every token of the account issued before a set time'
}

export function revokedReasonText(reason: string | null): string | null {
  if (!reason) return null
  return REVOKED_REASONS[reason] ?? reason.replace(/_/g, ' ')
}

/** a regenerated token whose old value still works for a while */
export function isSuperseded(t: Token, now = Date.now()): boolean {
  return (
    t.rotation === 'superseded' &&
    t.state !== 'expired' &&
    (t.rotation_ends_at === null || new Date(t.rotation_ends_at).getTime() > now)
  )
}

/** "1 h", "90 s", "2 d 3 h": an overlap length for people */
export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`
  if (seconds < 86_400) return `${+(seconds / 3600).toFixed(1)} h`
  return `${+(seconds / 86_400).toFixed(1)} d`
}

export function daysAhead(days: number, now = Date.now()): string {
  return new Date(now + days * DAY).toISOString()
}

export { dateInputValue, endOfDay }

/** "1 token", "3 tokens" */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

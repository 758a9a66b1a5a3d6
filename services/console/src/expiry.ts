// Dates of the Generate and Edit forms, and what the server's lifetime policy lets them offer. No
// imports and no DOM: the unit tests run it under Node.

const DAY = 86_400_000

/** yyyy-mm-dd of a date, local time (the value of an <input type=date>) */
export function dateInputValue(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`
}

/** the end of a picked local day, as the API's ISO timestamp */
export function endOfDay(value: string): string {
  const [y, m, d] = value.split('-').map(Number)
  return new Date(y ?? 1970, (m ?? 1) - 1, d ?? 1, 23, 59, 0).toISOString()
}

const PRESET_DAYS = [7, 30, 90] as const
/** a number of days, `custom` (a date) or `never` */
export type ExpiryChoice = string

/**
 * What the server's lifetime policy (GET /v1/scopes `lifetime.max_days`) lets the Generate form
 * offer: the presets within the maximum and the maximum itself, the last day a custom date may be
 * (its end of day stays within the maximum), "never" only without a maximum, and the choice it
 * starts on.
 */
export function expiryOptions(
  maxDays: number | null,
  now = Date.now()
): { presets: number[]; lastDay: string | undefined; never: boolean; initial: ExpiryChoice } {
  const presets: number[] = PRESET_DAYS.filter((d) => maxDays === null || d <= maxDays)
  // the maximum itself is always a choice (with a maximum of 1 day no custom date fits: the
  // date picker starts tomorrow)
  if (maxDays !== null && !presets.includes(maxDays)) presets.push(maxDays)
  const initial: ExpiryChoice = presets.includes(30)
    ? '30'
    : presets.length > 0
      ? String(presets[presets.length - 1])
      : 'custom'
  return {
    presets,
    lastDay: maxDays === null ? undefined : dateInputValue(new Date(now + (maxDays - 1) * DAY)),
    never: maxDays === null,
    initial
  }
}

// The console's Generate form offers only expiries the server's lifetime policy accepts
// (GET /v1/scopes `lifetime.max_days`; services/console/src/format.ts expiryOptions).
import t from 'tap'
import { endOfDay, expiryOptions } from '../../services/console/src/expiry.js'

const NOW = new Date(2026, 11, 4, 10, 30).getTime()
const DAY = 86_400_000

t.test('the default maximum (365 days): every preset and the maximum, a last day, no "never"', async (t) => {
  const o = expiryOptions(365, NOW)
  t.same(o.presets, [7, 30, 90, 365])
  t.equal(o.initial, '30')
  t.equal(o.never, false)
  t.equal(o.lastDay, '2027-12-03')
})

t.test('a maximum below a preset removes it, and the start moves within it', async (t) => {
  t.same(expiryOptions(60, NOW).presets, [7, 30, 60])
  t.same(expiryOptions(90, NOW).presets, [7, 30, 90])
  t.same(expiryOptions(20, NOW).presets, [7, 20])
  t.equal(expiryOptions(20, NOW).initial, '20', 'the largest that fits')
  t.same(expiryOptions(1, NOW).presets, [1], 'a 1-day maximum: the maximum itself (no custom date fits)')
  t.equal(expiryOptions(1, NOW).initial, '1')
})

t.test('the last day offered ends within the maximum, whatever the hour', async (t) => {
  for (const max of [2, 30, 365]) {
    for (const hour of [0, 9, 23]) {
      const now = new Date(2026, 11, 4, hour, 59).getTime()
      const last = expiryOptions(max, now).lastDay!
      const end = Date.parse(endOfDay(last))
      t.ok(end <= now + max * DAY, `max ${max}, ${hour}:59: ${last} ends within it`)
      const tomorrow = new Date(now + DAY)
      t.ok(
        end >=
          Date.parse(
            endOfDay(
              `${tomorrow.getFullYear()}-${String(tomorrow.getMonth() + 1).padStart(2, '0')}-${String(tomorrow.getDate()).padStart(2, '0')}`
            )
          ),
        `max ${max}, ${hour}:59: ${last} is no earlier than tomorrow (the picker's first day)`
      )
    }
  }
})

t.test('no maximum: "never" is offered and no last day', async (t) => {
  const o = expiryOptions(null, NOW)
  t.equal(o.never, true)
  t.equal(o.lastDay, undefined)
  t.same(o.presets, [7, 30, 90])
})

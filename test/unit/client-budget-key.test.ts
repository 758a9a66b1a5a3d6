// Leak reports are rate-limited per client: an IPv6 client spends the budget of its /64.
import t from 'tap'
import { clientBudgetKey } from '../../services/authority/src/routes/leaked-tokens.routes.js'

t.test('IPv4 addresses are their own budget; IPv6 addresses share their /64', async (t) => {
  t.equal(clientBudgetKey('203.0.113.7'), '203.0.113.7')
  t.equal(clientBudgetKey('::ffff:203.0.113.7'), '203.0.113.7', 'an IPv4-mapped address is the IPv4 one')
  const a = clientBudgetKey('2001:db8:1:2:aaaa::1')
  t.equal(a, '2001:db8:1:2::/64')
  t.equal(clientBudgetKey('2001:0DB8:0001:0002:ffff:ffff:ffff:ffff'), a, 'any spelling of the same /64')
  t.equal(clientBudgetKey('2001:db8:1:2::'), a)
  t.not(clientBudgetKey('2001:db8:1:3::1'), a, 'the next /64 is another budget')
  t.equal(clientBudgetKey('::1'), '0:0:0:0::/64')
})

// The Webhook-Signature the sender computes, checked by the snippet docs/webhooks.md gives receivers:
// the id, the timestamp and the body are all signed (a replay under a fresh Webhook-Id fails).
import t from 'tap'
import { signPayload } from '../../services/authority/src/webhooks/secret-box.js'
import { docsVerifier } from '../support/webhook-receiver.js'

const secret = 'whsec_test-secret-for-the-signature'
const body = '{"id":"evt-1","type":"token.revoked","data":{"token_id":"abc"}}'

t.test('what the sender signs, the documented snippet verifies; any change to id, time or body fails', async (t) => {
  const verify = await docsVerifier()
  const ts = Math.floor(Date.now() / 1000)
  const headers = (id: string, at: number, sig: string) => ({
    'webhook-id': id,
    'webhook-timestamp': String(at),
    'webhook-signature': sig
  })
  const sig = signPayload(secret, 'evt-1', ts, body)
  t.equal(verify(secret, headers('evt-1', ts, sig), body), true, 'a genuine delivery verifies')
  t.equal(verify(secret, headers('evt-2', ts, sig), body), false, 'the same delivery under another id: refused')
  t.equal(verify(secret, headers('evt-1', ts + 1, sig), body), false, 'another timestamp: refused')
  t.equal(verify(secret, headers('evt-1', ts, sig), `${body} `), false, 'another body: refused')
  t.equal(verify(`${secret}x`, headers('evt-1', ts, sig), body), false, 'another secret: refused')
  const old = ts - 3600
  t.equal(
    verify(secret, headers('evt-1', old, signPayload(secret, 'evt-1', old, body)), body),
    false,
    'an old timestamp: refused (replay window)'
  )
})

import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import t from 'tap'

/**
 * The walk-through's `field` helper (README and scripts/walkthrough.sh, which CI runs): prints one
 * field of a JSON reply, and fails loudly — reply on stderr, exit 1 — on an error reply, a reply
 * that is not JSON, or a missing field, instead of handing `undefined` to the next step.
 */
const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')

function fieldDefinition(text: string, where: string): string {
  const m = /^field\(\) \{ node -e '[\s\S]*?' "\$1"; \}$/m.exec(text)
  if (m === null) throw new Error(`no field() helper in ${where}`)
  return m[0]
}

const readme = fieldDefinition(read('README.md'), 'README.md')
const script = fieldDefinition(read('scripts/walkthrough.sh'), 'scripts/walkthrough.sh')

function field(definition: string, name: string, reply: string) {
  const r = spawnSync('bash', ['-c', `${definition}\nfield "$1"`, 'field', name], { input: reply, encoding: 'utf8' })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

t.equal(readme, script, 'the README shows the helper the script runs')

t.test('prints the field of a good reply', async (t) => {
  const reply = JSON.stringify({ access_token: 'tka_pat_x', token: { id: 'tok_1' }, active: false })
  t.same(field(readme, 'access_token', reply), { status: 0, stdout: 'tka_pat_x\n', stderr: '' })
  t.same(field(readme, 'token.id', reply), { status: 0, stdout: 'tok_1\n', stderr: '' })
  t.same(field(readme, 'active', reply), { status: 0, stdout: 'false\n', stderr: '' })
})

t.test('fails loudly on an error reply, a non-JSON reply or a missing field', async (t) => {
  const error = JSON.stringify({
    statusCode: 401,
    code: 'invalid_credentials',
    error: 'Unauthorized',
    message: 'wrong',
    requestId: 'r1'
  })
  for (const [name, reply] of [
    ['access_token', error],
    ['code', error],
    ['access_token', '<html>502 Bad Gateway</html>'],
    ['access_token', ''],
    ['access_token', JSON.stringify({ token_type: 'Bearer' })]
  ] as const) {
    const r = field(readme, name, reply)
    t.equal(r.status, 1, `${name} of ${JSON.stringify(reply)}: exit 1`)
    t.equal(r.stdout, '', 'nothing on stdout for the next step to use')
    t.equal(r.stderr, `field ${name}: not in this reply: ${reply}\n`, 'the reply is shown')
  }
})

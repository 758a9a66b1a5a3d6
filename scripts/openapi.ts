/**
 * npm run openapi            regenerate openapi/openapi.json and openapi/client/schema.ts
 * npm run openapi -- --check fail (exit 1) if the committed files differ from what the code generates
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { CLIENT_SCHEMA_PATH, generateArtifacts, SPEC_PATH } from './openapi-generate.js'

const check = process.argv.includes('--check')
const { spec, clientSchema } = await generateArtifacts()
let drift = 0
for (const [path, content] of [
  [SPEC_PATH, spec],
  [CLIENT_SCHEMA_PATH, clientSchema]
] as const) {
  let current = ''
  try {
    current = readFileSync(path, 'utf8')
  } catch {
    // missing counts as drift
  }
  if (current === content) {
    process.stdout.write(`${path}: up to date\n`)
  } else if (check) {
    drift++
    process.stderr.write(`${path}: differs from what the code generates; run "npm run openapi" and commit it\n`)
  } else {
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(path, content)
    process.stdout.write(`${path}: written\n`)
  }
}
process.exitCode = drift > 0 ? 1 : 0

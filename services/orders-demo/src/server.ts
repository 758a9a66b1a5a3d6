import { buildOrdersApp } from './app.js'

const need = (name: string): string => {
  const v = process.env[name]
  if (!v) {
    process.stderr.write(`orders-demo: set ${name}\n`)
    process.exit(78)
  }
  return v
}

const app = await buildOrdersApp(
  {
    authorityUrl: need('AUTHORITY_URL'),
    // holds tokens:introspect (+ tokens:introspect:reason) and tokens:revocations: the plugin
    // follows the authority's revocation stream over HTTP; the demo never needs the authority's Redis
    credential: need('SERVICE_TOKEN'),
    ...(process.env.REVOCATIONS_FAIL_CLOSED === 'true' ? { revocations: { failClosed: true } } : {})
  },
  { logger: { level: process.env.LOG_LEVEL ?? 'info' } }
)
const port = Number(process.env.PORT ?? 4000)
await app.listen({ port, host: process.env.HOST ?? '127.0.0.1' })
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void app.close())

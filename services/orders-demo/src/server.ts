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
    credential: need('SERVICE_TOKEN'),
    ...(process.env.AUTHORITY_REDIS_URL ? { invalidation: { redisUrl: process.env.AUTHORITY_REDIS_URL } } : {})
  },
  { logger: { level: process.env.LOG_LEVEL ?? 'info' } }
)
const port = Number(process.env.PORT ?? 4000)
await app.listen({ port, host: process.env.HOST ?? '127.0.0.1' })
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void app.close())

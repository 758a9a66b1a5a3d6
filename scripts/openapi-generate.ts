import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import openapiTS, { astToString } from 'openapi-typescript'
import { bootApp } from '../services/authority/src/boot.js'
import { loadConfig } from '../services/authority/src/config.js'

export const SPEC_PATH = 'openapi/openapi.json'
export const CLIENT_SCHEMA_PATH = 'openapi/client/schema.ts'

export interface Artifacts {
  /** the OpenAPI document as committed (pretty JSON, trailing newline) */
  spec: string
  /** TypeScript types of every path and schema (openapi-typescript) */
  clientSchema: string
  /** every METHOD path the server routes, for the route-table check */
  routes: string[]
}

/**
 * Builds the authority on a throwaway embedded database (no network, no env) and takes the
 * document @fastify/swagger generates from the route schemas: the spec is the code's.
 */
export async function generateArtifacts(): Promise<Artifacts> {
  const dir = mkdtempSync(join(tmpdir(), 'ta-openapi-'))
  const config = loadConfig({ DATA_DIR: dir, PRUNE_INTERVAL_SECONDS: '0', LOG_LEVEL: 'silent' })
  try {
    const routes: string[] = []
    const { app } = await bootApp(config, {
      migrate: 'latest',
      logger: false,
      instrument: (app) =>
        app.addHook('onRoute', (route) => {
          if (route.schema?.hide === true || route.url.startsWith('/docs')) return
          for (const m of [route.method].flat()) if (m !== 'HEAD') routes.push(`${m} ${route.url}`)
        })
    })
    await app.ready()
    const doc = app.swagger()
    await app.close()
    const spec = `${JSON.stringify(doc, null, 2)}\n`
    const header =
      '/**\n * Generated from openapi/openapi.json by `npm run openapi` (openapi-typescript). Do not edit.\n */\n\n'
    const clientSchema =
      header + astToString(await openapiTS(JSON.parse(spec), { alphabetize: false, exportType: false }))
    return { spec, clientSchema, routes: routes.sort() }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

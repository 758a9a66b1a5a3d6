import fp from 'fastify-plugin'
import { openDatabase, type DatabaseConfig, type DatabaseHandle } from '../db/database.js'

declare module 'fastify' {
  interface FastifyInstance {
    database: DatabaseHandle
  }
}

/** Either an open handle (its owner closes it) or the settings to open one (closed with the app). */
export type DatabasePluginOptions = { handle: DatabaseHandle } | { config: DatabaseConfig }

/** Decorates `app.database`; closes it in onClose only if this plugin opened it. */
export const databasePlugin = fp<DatabasePluginOptions>(
  async (app, opts) => {
    const handle = 'handle' in opts ? opts.handle : openDatabase(opts.config)
    app.decorate('database', handle)
    if (!('handle' in opts)) app.addHook('onClose', async () => handle.close())
  },
  { name: 'authority-database', fastify: '5.x' }
)

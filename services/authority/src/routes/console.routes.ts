import { existsSync } from 'node:fs'
import { extname, join } from 'node:path'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { errorBody } from '../error-handler.js'

/**
 * The Content-Security-Policy of the console: its own scripts, styles and API only; no inline
 * script or style, no framing, no form posts elsewhere. Without `upgrade-insecure-requests`, as
 * for /docs (openapi.ts): the console is reached over plain http by host name (`npm start`, a
 * port-forward), and 'self' already pins every fetch to the scheme, host and port it came from.
 */
export const CONSOLE_CSP: Readonly<Record<string, string>> = {
  'default-src': "'self'",
  'script-src': "'self'",
  'style-src': "'self'",
  'img-src': "'self' data:",
  'connect-src': "'self'",
  'frame-ancestors': "'none'",
  'base-uri': "'none'",
  'form-action': "'self'"
}

const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': Object.entries(CONSOLE_CSP)
    .map(([directive, sources]) => `${directive} ${sources}`)
    .join('; '),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin'
}

export const NOT_BUILT_MESSAGE =
  'the console is not built: run `npm run build` (it writes dist/console/), or point CONSOLE_DIR at a built console'

/** Bundler output under assets/ carries a content hash in its name: cached for good. */
function cacheControlFor(path: string, root: string): string {
  const relative = path.slice(root.length).replace(/\\/g, '/')
  return relative.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache'
}

/**
 * The token console at /console/ (a single-page app built into `dir`), and `GET /` redirecting
 * there. A path under /console/ that is no file and has no extension is a client-side route: it
 * gets index.html. A missing build answers 404 saying how to make it.
 */
export async function consoleRoutes(app: FastifyInstance, opts: { dir: string }): Promise<void> {
  const root = opts.dir
  const index = join(root, 'index.html')

  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/console/', 302))
  app.get('/console', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/console/', 302))

  await app.register(
    async (scope) => {
      scope.addHook('onSend', async (_request, reply) => {
        void reply.headers(CONSOLE_HEADERS)
      })
      await scope.register(fastifyStatic, {
        root,
        prefix: '/',
        wildcard: true,
        index: ['index.html'],
        dotfiles: 'ignore',
        schemaHide: true,
        // Fastify's default logs a warning for a missing root; the 404 below says what to do instead
        suppressWarning: true,
        cacheControl: false,
        setHeaders: (reply, path) => {
          void reply.header('cache-control', cacheControlFor(path, root))
        }
      })
      scope.setNotFoundHandler(async (request: FastifyRequest, reply: FastifyReply) => {
        const notFound = (message: string) => reply.code(404).send(errorBody('not_found', request.id, message))
        if (!existsSync(index)) return notFound(NOT_BUILT_MESSAGE)
        const path = (request.url.split('?')[0] ?? '').replace(/\/+$/, '')
        if ((request.method !== 'GET' && request.method !== 'HEAD') || extname(path) !== '')
          return notFound('no such file in the console')
        void reply.header('cache-control', 'no-cache')
        return reply.sendFile('index.html')
      })
    },
    { prefix: '/console' }
  )
}

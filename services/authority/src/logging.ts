import type { FastifyServerOptions } from 'fastify'
import { pino, type Logger } from 'pino'
import type { Config } from './config.js'

/** Headers, query parameters and body fields that may carry secrets: never logged. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.password',
  '*.current_password',
  '*.token',
  '*.tokens',
  '*.subject_token',
  '*.actor_token',
  '*.access_token',
  '*.client_secret'
]

/**
 * A path as it may be logged or echoed: any run of 40+ token characters (a token value, or a
 * secret pasted where an id goes; ids are 22 or 36) becomes `[redacted]`, and the query string
 * (which may hold access_token / session) is dropped.
 */
export function safePath(url: string): string {
  return (url.split('?')[0] ?? '').replace(/[A-Za-z0-9_%.~-]{40,}/g, '[redacted]')
}

export function loggerOptions(config: Pick<Config, 'LOG_LEVEL'>) {
  return {
    level: config.LOG_LEVEL,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      // The query string may hold a token (access_token / session): log the path only.
      req: (req: { method: string; url: string; id: string; ip?: string }) => ({
        method: req.method,
        path: safePath(req.url),
        reqId: req.id,
        ip: req.ip
      })
    }
  }
}

/** Logger options as Fastify takes them (false = no logging), or an instance. */
export type LoggerChoice = { logger?: FastifyServerOptions['logger']; loggerInstance?: Logger }

/**
 * The process logger, made before the services (they log without Fastify) and handed to Fastify
 * as its instance, which adds its own serializers (res, err) under ours, as it does for options.
 */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, choice: LoggerChoice = {}): Logger {
  if (choice.loggerInstance !== undefined) return choice.loggerInstance
  const given = choice.logger ?? loggerOptions(config)
  if (given === false) return pino({ enabled: false })
  if (given === true) return pino({ level: 'info' })
  const { stream, ...options } = given as { stream?: pino.DestinationStream } & pino.LoggerOptions
  return pino({ level: 'info', ...options }, stream)
}

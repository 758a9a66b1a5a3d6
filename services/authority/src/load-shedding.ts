import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** probes: answered even while the process sheds load (a pod under pressure is busy, not dead) */
    neverShed?: boolean
  }
}

/** how finely the event-loop delay is sampled, ms (subtracted from the mean, as timer jitter) */
const RESOLUTION_MS = 10

export interface LoadShedder {
  /** true while new requests are refused: the event-loop delay has been past the limit for the whole window */
  overloaded(): boolean
}

/**
 * Load shedding on a *sustained* event-loop delay: requests (except routes configured `neverShed`)
 * get `onShed`'s answer once every sample for `sustainedMs` has had a mean delay past `maxDelayMs`.
 *
 * Why a window and not one or two samples: a burst (a thousand gateways' connections opening at
 * once after a deploy) blocks the loop for a second or two and is then answered; shedding it turned
 * a slow answer into a user-facing error, since a verifier fails closed on 503. Sustained overload
 * (more arriving than the process can ever answer) keeps the delay up for as long as it lasts, and
 * is what shedding is for. Shedding stops with the first sample under the limit; a new over-limit
 * stretch that starts within `sustainedMs` of that sheds again at once (no full window each time,
 * so sustained overload is not let through for a window out of every cycle).
 *
 * Sampling starts when the app is ready and starts over when it listens: the start-up's own
 * blocking (module loading, route and schema compilation, migrations) is not load. Before the first
 * full window after that nothing is shed.
 */
export function registerLoadShedding(
  app: FastifyInstance,
  opts: {
    maxDelayMs: number
    sampleIntervalMs: number
    /** how long the delay must stay past the limit before requests are shed */
    sustainedMs: number
    onShed: (request: FastifyRequest, reply: FastifyReply) => void
    now?: () => number
  }
): LoadShedder {
  const now = opts.now ?? (() => performance.now())
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
  /** when the current stretch of over-limit samples began (its first sample's interval start), or null */
  let overSince: number | null = null
  /** when shedding last stopped (-Infinity: never) */
  let shedEnded = Number.NEGATIVE_INFINITY
  let shedding = false
  let lastSample = 0
  let timer: NodeJS.Timeout | undefined
  const sample = () => {
    const t = now()
    const mean = histogram.mean / 1e6
    // No tick in a whole interval: the loop was too busy to run even the histogram's timer
    // (as @fastify/under-pressure reads it too).
    const delayMs = Number.isNaN(mean) ? Number.POSITIVE_INFINITY : Math.max(0, mean - RESOLUTION_MS)
    histogram.reset()
    if (delayMs > opts.maxDelayMs) {
      // the stretch counts from the start of the interval this sample covers
      overSince ??= lastSample
      shedding = t - overSince >= opts.sustainedMs || overSince - shedEnded < opts.sustainedMs
    } else {
      if (shedding) shedEnded = t
      overSince = null
      shedding = false
    }
    lastSample = t
  }
  const start = () => {
    histogram.reset()
    histogram.enable()
    overSince = null
    shedding = false
    shedEnded = Number.NEGATIVE_INFINITY
    lastSample = now()
    if (timer === undefined) {
      timer = setInterval(sample, opts.sampleIntervalMs)
      timer.unref()
    } else timer.refresh()
  }
  app.addHook('onReady', async () => start())
  app.addHook('onListen', async () => start())
  app.addHook('onClose', async () => {
    if (timer !== undefined) clearInterval(timer)
    histogram.disable()
  })

  const overloaded = () => shedding
  // a callback hook: it runs on every request and needs no promise
  app.addHook('onRequest', (request, reply, done) => {
    if (shedding && request.routeOptions.config.neverShed !== true) {
      opts.onShed(request, reply)
      return
    }
    done()
  })
  return { overloaded }
}

/** Injectable time, so expiry and rotation tests run on a frozen clock. Milliseconds. */
export interface Clock {
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }

export function frozenClock(start: number): Clock & { advance(ms: number): void; set(ms: number): void } {
  let t = start
  return {
    now: () => t,
    advance: (ms) => {
      t += ms
    },
    set: (ms) => {
      t = ms
    }
  }
}

export const seconds = (ms: number): number => Math.floor(ms / 1000)

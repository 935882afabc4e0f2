/**
 * A clock whose `sleep` records the requested delay and advances time at once (after yielding to
 * the event loop), so retry / limiter / polling delays are asserted, never waited for.
 */
import type { Clock } from "../../../src/workflows/ports.ts";

export interface FakeClock extends Clock {
  /** Every delay passed to `sleep`, in order. */
  readonly sleeps: number[];
  advance(ms: number): void;
}

export function createFakeClock(start = 1_000_000): FakeClock {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    advance(ms) {
      now += ms;
    },
    sleep(ms, signal) {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) {
          reject(signal.reason);
          return;
        }
        sleeps.push(ms);
        now += ms;
        setImmediate(() => {
          if (signal?.aborted) reject(signal.reason);
          else resolve();
        });
      });
    },
  };
}

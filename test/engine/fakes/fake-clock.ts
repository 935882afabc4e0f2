/**
 * A virtual clock: `sleep(ms)` advances virtual time by `ms` at once (yielding to the event loop
 * first) and records the request, so retry delays are asserted without waiting.
 */
import type { Clock } from "../../../src/workflows/ports.ts";

export interface FakeClock extends Clock {
  /** Every sleep requested, in order. */
  sleeps: number[];
  advance(ms: number): void;
}

export function createFakeClock(start = 1_700_000_000_000): FakeClock {
  let now = start;
  const clock: FakeClock = {
    sleeps: [],
    now: () => now,
    advance(ms) {
      now += ms;
    },
    sleep(ms, signal) {
      clock.sleeps.push(ms);
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) {
          reject(signal.reason);
          return;
        }
        setImmediate(() => {
          if (signal?.aborted) reject(signal.reason);
          else {
            now += ms;
            resolve();
          }
        });
      });
    },
  };
  return clock;
}

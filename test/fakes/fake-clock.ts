/**
 * A virtual clock for every test of the `Clock` port (engine, agents, resilience): `sleep` records
 * the requested delay and registers a timer; whenever the event loop comes round, time jumps to the
 * earliest pending timer and fires it. Retry, limiter, polling and cancel-watch delays are
 * therefore asserted, never waited for, and concurrent sleepers still wake in due order.
 */
import type { Clock } from "../../src/workflows/ports.ts";

export interface FakeClock extends Clock {
  /** Every delay passed to `sleep`, in order of the calls. */
  readonly sleeps: number[];
  advance(ms: number): void;
}

interface Timer {
  due: number;
  seq: number;
  resolve: () => void;
}

/** Creates a clock at `start` (epoch ms) with no timers pending. */
export function createFakeClock(start = 1_700_000_000_000): FakeClock {
  let now = start;
  let seq = 0;
  const sleeps: number[] = [];
  const timers: Timer[] = [];
  let scheduled = false;
  const schedule = () => {
    if (scheduled || timers.length === 0) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      timers.sort((a, b) => a.due - b.due || a.seq - b.seq);
      const next = timers.shift();
      if (next) {
        now = Math.max(now, next.due);
        next.resolve();
      }
      schedule();
    });
  };
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
        const timer: Timer = {
          due: now + ms,
          seq: seq++,
          resolve: () => {
            signal?.removeEventListener("abort", onAbort);
            resolve();
          },
        };
        const onAbort = () => {
          const index = timers.indexOf(timer);
          if (index !== -1) timers.splice(index, 1);
          reject(signal?.reason);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        timers.push(timer);
        schedule();
      });
    },
  };
}

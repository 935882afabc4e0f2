/**
 * A clock that only moves when the test says so: `sleep` waits until `advance` passes its deadline.
 */
import type { Clock } from "../../src/workflows/ports.ts";

export interface ManualClock extends Clock {
  /** Moves time forward, firing due sleeps in deadline order (and letting their continuations run). */
  advance(ms: number): Promise<void>;
  /** Sleeps currently waiting. */
  pending(): number;
}

export function createManualClock(start = 1_000_000): ManualClock {
  let now = start;
  const timers: { at: number; resolve: () => void }[] = [];
  const settle = () => new Promise<void>((r) => setImmediate(r));
  return {
    now: () => now,
    pending: () => timers.length,
    sleep(ms, signal) {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) {
          reject(signal.reason);
          return;
        }
        const timer = { at: now + ms, resolve };
        timers.push(timer);
        signal?.addEventListener(
          "abort",
          () => {
            const i = timers.indexOf(timer);
            if (i >= 0) timers.splice(i, 1);
            reject(signal.reason);
          },
          { once: true },
        );
      });
    },
    async advance(ms) {
      const target = now + ms;
      for (;;) {
        await settle();
        timers.sort((a, b) => a.at - b.at);
        const next = timers[0];
        if (!next || next.at > target) break;
        timers.shift();
        now = next.at;
        next.resolve();
      }
      now = target;
      await settle();
    },
  };
}

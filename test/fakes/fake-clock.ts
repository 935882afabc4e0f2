/**
 * The one virtual clock of the tests (and of the benchmarks that simulate time). Delays are
 * asserted (`sleeps`), never waited for. Two ways for time to move:
 *
 * - `"auto"` (default): whenever the event loop comes round with sleeps pending, time jumps to the
 *   earliest one and fires it, so retry, limiter, polling and cancel-watch delays pass at once and
 *   concurrent sleepers still wake in due order (engine, agents, resilience tests).
 * - `"manual"`: time moves only when the test calls `advance`, which fires the sleeps that fall due
 *   on the way, in deadline order (coalescing windows, cache TTLs, simulated minutes).
 */
import type { Clock } from "../../src/workflows/ports.ts";

export interface FakeClockOptions {
  /** Epoch ms the clock starts at (default 1_700_000_000_000). */
  start?: number;
  mode?: "auto" | "manual";
}

export interface FakeClock extends Clock {
  /** Every delay passed to `sleep`, in order of the calls. */
  readonly sleeps: number[];
  /** Sleeps waiting now. */
  pending(): number;
  /**
   * Moves time forward by `ms`, firing the sleeps due on the way in deadline order and letting
   * their continuations run before it resolves.
   */
  advance(ms: number): Promise<void>;
}

interface Timer {
  due: number;
  seq: number;
  fire: () => void;
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * @example
 * const clock = createFakeClock();                   // retries and polls pass at once
 * const manual = createFakeClock({ mode: "manual" }); // await manual.advance(3000) to move time
 */
export function createFakeClock(options: FakeClockOptions = {}): FakeClock {
  const auto = (options.mode ?? "auto") === "auto";
  let now = options.start ?? 1_700_000_000_000;
  let seq = 0;
  const sleeps: number[] = [];
  const timers: Timer[] = [];
  const nextDue = () => {
    timers.sort((a, b) => a.due - b.due || a.seq - b.seq);
    return timers[0];
  };

  let scheduled = false;
  const schedule = () => {
    if (!auto || scheduled || timers.length === 0) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      const next = nextDue();
      if (next) {
        timers.shift();
        now = Math.max(now, next.due);
        next.fire();
      }
      schedule();
    });
  };

  return {
    sleeps,
    now: () => now,
    pending: () => timers.length,
    async advance(ms) {
      const target = now + ms;
      for (;;) {
        await settle();
        const next = nextDue();
        if (!next || next.due > target) break;
        timers.shift();
        now = Math.max(now, next.due);
        next.fire();
      }
      now = Math.max(now, target);
      await settle();
    },
    sleep(ms, signal) {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) {
          reject(signal.reason);
          return;
        }
        sleeps.push(ms);
        const onAbort = () => {
          const index = timers.indexOf(timer);
          if (index !== -1) timers.splice(index, 1);
          reject(signal?.reason);
        };
        const timer: Timer = {
          due: now + ms,
          seq: seq++,
          fire: () => {
            signal?.removeEventListener("abort", onAbort);
            resolve();
          },
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        timers.push(timer);
        schedule();
      });
    },
  };
}

/**
 * The `Clock` port: the time every policy and the engine read and wait on (tests inject a fake one).
 * It lives in this leaf folder so the engine's ports (`src/workflows/ports.ts`, which re-exports it)
 * and the resilience policies the engine uses share it without importing each other.
 */
export interface Clock {
  now(): number;
  /** Waits `ms` unless `signal` aborts first (rejecting with its reason). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};

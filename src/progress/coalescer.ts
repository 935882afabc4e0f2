/**
 * Coalesces updates to one GitHub surface: at most one write per `intervalMs`, the latest state
 * always written eventually, writes never overlapping, and `flush()` for the final write.
 * So a run's writes grow with its duration and steps, not with the number of streamed tokens.
 */
import type { Clock } from "../workflows/ports.ts";

export interface Coalescer {
  /** Marks the surface dirty: writes now when the interval has passed, else once at its end. */
  request(): void;
  /** Cancels any pending timer, waits for a write in flight, then writes if dirty (or `force`). */
  flush(options?: { force?: boolean }): Promise<void>;
  /** Stops scheduling further writes (a write in flight still completes). */
  close(): void;
}

/**
 * @example
 * const write = async () => void (await octokit.rest.checks.update({ owner, repo, check_run_id, output }));
 * const c = createCoalescer({ clock, intervalMs: 3000, write, onError: (error) => log.warn({ err: error }, "check run update failed") });
 * c.request(); c.request(); // one write now, the second at most 3 s later
 * await c.flush({ force: true }); // the final write
 */
export function createCoalescer(deps: {
  clock: Clock;
  intervalMs: number;
  write: () => Promise<void>;
  onError: (error: unknown) => void;
}): Coalescer {
  let lastWriteAt = Number.NEGATIVE_INFINITY;
  let dirty = false;
  let closed = false;
  let inflight: Promise<void> | undefined;
  let timer: AbortController | undefined;

  const run = () => {
    dirty = false;
    lastWriteAt = deps.clock.now();
    inflight = (async () => {
      try {
        await deps.write();
      } catch (error) {
        deps.onError(error);
      }
    })().finally(() => {
      inflight = undefined;
      if (dirty && !closed) schedule();
    });
  };

  const cancelTimer = () => {
    const t = timer;
    timer = undefined;
    t?.abort();
  };

  const schedule = () => {
    if (inflight || timer || closed) return;
    const wait = lastWriteAt + deps.intervalMs - deps.clock.now();
    if (wait <= 0) {
      run();
      return;
    }
    const controller = new AbortController();
    timer = controller;
    deps.clock.sleep(wait, controller.signal).then(
      () => {
        if (timer !== controller) return;
        timer = undefined;
        if (dirty && !closed) run();
      },
      () => {
        if (timer === controller) timer = undefined;
      },
    );
  };

  return {
    request() {
      dirty = true;
      schedule();
    },
    async flush(options = {}) {
      cancelTimer();
      while (inflight) await inflight;
      cancelTimer();
      if (dirty || options.force) {
        run();
        await inflight;
      }
    },
    close() {
      closed = true;
      cancelTimer();
    },
  };
}

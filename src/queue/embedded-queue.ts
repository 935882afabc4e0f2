/**
 * The embedded queue (D3): an in-process worker pool over the store's job table. Jobs survive a
 * restart because they live in the store; a worker holds a lease it renews while the job runs, so a
 * job whose process died is claimed again once its lease expires.
 *
 * A worker that missed its lease while still alive (a stalled event loop, a database it could not
 * reach) may find its job claimed by another worker: the next renewal says so, and the job's signal
 * is aborted at once, so the stale worker stops executing (the engine treats it like a shutdown: no
 * further step or run writes; the new owner re-runs the interrupted step). Its `completeJob` is a
 * no-op, so it can never delete the new owner's job.
 */
import { randomUUID } from "node:crypto";
import { pino, type Logger } from "pino";
import type { Metrics } from "../observability/metrics.ts";
import { systemClock, type Clock, type JobHandler, type Queue, type RunStore } from "../workflows/ports.ts";
import type { RunId } from "../workflows/types.ts";

export interface EmbeddedQueueOptions {
  store: RunStore;
  clock?: Clock;
  log?: Logger;
  metrics?: Metrics;
  /** Jobs (runs) executing at the same time in this process (default 4). */
  concurrency?: number;
  /** Lease length; renewed every third of it while the job runs (default 30 s). */
  leaseMs?: number;
  /** Poll interval when idle (default 500 ms); `enqueue` and `notify` wake the poller at once. */
  pollMs?: number;
  /** How long `stop()` waits for running jobs before aborting them (default 10 s). */
  stopTimeoutMs?: number;
  /** Claims of one job after which a handler that keeps throwing is given up on (default 5). */
  maxAttempts?: number;
  workerId?: string;
}

/**
 * Creates the embedded queue.
 *
 * @example
 * const queue = createEmbeddedQueue({ store, concurrency: env.OCTOFLOW_CONCURRENCY });
 * const engine = createEngine({ store, queue, agents });
 * await queue.start(engine.execute);
 */
export function createEmbeddedQueue(options: EmbeddedQueueOptions): Queue {
  const { store } = options;
  const clock = options.clock ?? systemClock;
  const log = (options.log ?? pino({ level: "silent" })).child({ component: "embedded-queue" });
  const concurrency = options.concurrency ?? 4;
  const leaseMs = options.leaseMs ?? 30_000;
  const pollMs = options.pollMs ?? 500;
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  const maxAttempts = options.maxAttempts ?? 5;
  const workerId = options.workerId ?? `embedded-${randomUUID()}`;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError("queue concurrency must be a whole number ≥ 1");

  let handler: JobHandler | undefined;
  let active = false;
  let wake: (() => void) | undefined;
  /** Set by `notify`, cleared before each look at the store: a wake-up that arrives mid-look is kept. */
  let woken = false;
  let loop: Promise<void> | undefined;
  let statsAt = -Infinity;
  const jobs = new Map<RunId, { controller: AbortController; done: Promise<void> }>();

  const notify = () => {
    woken = true;
    const w = wake;
    wake = undefined;
    w?.();
  };

  const runJob = (runId: RunId, attempts: number) => {
    const controller = new AbortController();
    let leaseLost = false;
    /** The handler returned: a renewal still in flight says nothing any more (the job may be completed). */
    let handled = false;
    const heartbeat = setInterval(() => {
      store.renewJob(runId, workerId, clock.now(), leaseMs).then(
        (held) => {
          if (held || leaseLost || handled) return;
          leaseLost = true;
          log.warn({ runId, workerId }, "lease lost: another worker claimed the job; stopping this execution");
          controller.abort(new Error(`the lease of run ${runId} was lost to another worker`));
        },
        (error: unknown) => log.warn({ err: error, runId }, "lease renewal failed"),
      );
    }, Math.max(10, Math.floor(leaseMs / 3)));
    heartbeat.unref?.();
    const done = (async () => {
      try {
        await (handler as JobHandler)(runId, controller.signal);
      } catch (error) {
        if (attempts < maxAttempts) {
          // Left leased: it becomes claimable again when the lease expires (a natural backoff).
          log.error({ err: error, runId, attempts }, "job failed; it will be retried when its lease expires");
          return;
        }
        log.error({ err: error, runId, attempts }, "job failed too often; giving up (the run resumes at the next start-up)");
      } finally {
        handled = true;
        clearInterval(heartbeat);
      }
      try {
        // Lost: the job is another worker's now; leave it alone.
        if (leaseLost) return;
        // Aborted by stop(): release the lease at once so another worker (or the next start) resumes it.
        if (controller.signal.aborted) await store.renewJob(runId, workerId, clock.now(), 0);
        else if (!(await store.completeJob(runId, workerId))) log.warn({ runId, workerId }, "job not completed: its lease had passed to another worker");
      } catch (error) {
        log.warn({ err: error, runId }, "could not complete the job");
      }
    })().finally(() => {
      jobs.delete(runId);
      notify();
    });
    jobs.set(runId, { controller, done });
  };

  const pollLoop = async () => {
    while (active) {
      let claimed = false;
      woken = false;
      try {
        while (active && jobs.size < concurrency) {
          const job = await store.claimJob(workerId, clock.now(), leaseMs);
          if (!job) break;
          if (jobs.has(job.runId)) continue;
          claimed = true;
          runJob(job.runId, job.attempts);
        }
        // Stats count the waiting jobs (a scan): at most once per poll interval, not per wake-up.
        if (options.metrics && clock.now() - statsAt >= pollMs) {
          statsAt = clock.now();
          const stats = await store.queueStats(statsAt);
          options.metrics.queueDepth.set(stats.depth);
          options.metrics.queueOldestAgeSeconds.set(stats.oldestAgeMs / 1000);
        }
      } catch (error) {
        log.warn({ err: error }, "queue poll failed");
      }
      if (!active) break;
      if ((claimed || woken) && jobs.size < concurrency) continue;
      // One timer and one listener per wait, both gone when the wait ends (by the timer or by a
      // wake-up): thousands of job completions a second must not pile up sleeping timers.
      const waited = new AbortController();
      await new Promise<void>((resolve) => {
        wake = resolve;
        clock.sleep(pollMs, waited.signal).then(resolve, resolve);
      });
      wake = undefined;
      waited.abort();
    }
  };

  return {
    async enqueue(runId, options) {
      const now = clock.now();
      await store.enqueueJob(runId, options?.runAt ?? now);
      if ((options?.runAt ?? now) <= now) notify();
    },
    notify,
    async start(jobHandler) {
      if (active) throw new Error("the queue is already running");
      handler = jobHandler;
      active = true;
      loop = pollLoop();
      log.info({ workerId, concurrency }, "embedded queue started");
    },
    async stop() {
      if (!active) return;
      active = false;
      notify();
      await loop;
      const running = [...jobs.values()];
      if (running.length > 0) {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<"timeout">((resolve) => {
          timer = setTimeout(() => resolve("timeout"), stopTimeoutMs);
        });
        const outcome = await Promise.race([Promise.all(running.map((j) => j.done)).then(() => "done" as const), timeout]);
        clearTimeout(timer);
        if (outcome === "timeout") {
          for (const job of running) job.controller.abort();
          await Promise.allSettled(running.map((j) => j.done));
        }
      }
      log.info({ workerId }, "embedded queue stopped");
    },
    running: () => active,
    stats: () => store.queueStats(clock.now()),
  };
}

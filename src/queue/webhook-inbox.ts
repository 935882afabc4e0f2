/**
 * The webhook inbox's worker (D13). The acknowledgement path only stores a verified delivery
 * (`RunStore.acceptDelivery`) and wakes this worker; everything else — gate, config, planning, the
 * reaction, the run and its job — happens here, a few milliseconds later, on whichever process
 * claims the delivery (every replica runs one over the shared store).
 *
 * Exactly once: a delivery is leased while it is processed and marked done after. A process that
 * dies in between leaves the lease to expire, and the delivery is processed again; the handlers
 * are idempotent per delivery (the delivery record and run ids derived from the delivery id), so
 * nothing runs twice. A failure (GitHub answering 502 to a permission lookup) is retried with
 * backoff, up to `maxAttempts`.
 */
import { randomUUID } from "node:crypto";
import { pino, type Logger } from "pino";
import { systemClock, type Clock, type InboxDelivery, type RunStore } from "../workflows/ports.ts";

export interface WebhookInboxOptions {
  store: RunStore;
  /** Processes one delivery; a throw schedules a retry. */
  process: (delivery: InboxDelivery) => Promise<void>;
  clock?: Clock;
  log?: Logger;
  /** Deliveries processed at the same time by this process (default 8). */
  concurrency?: number;
  /** Lease of a claimed delivery; a process that died mid-delivery gives it up after this (default 60 s). */
  leaseMs?: number;
  /** Poll interval when idle (default 1 s); `notify` wakes the worker at once. */
  pollMs?: number;
  /** First retry delay, doubled per attempt (default 1 s). */
  retryMs?: number;
  /** Attempts after which a failing delivery is given up on (default 6). */
  maxAttempts?: number;
  workerId?: string;
}

export interface WebhookInbox {
  /** A delivery was just accepted: look now instead of at the next poll. */
  notify(): void;
  start(): void;
  /** Stops claiming and waits for the deliveries being processed. */
  stop(): Promise<void>;
  /**
   * Processes every delivery due now and waits for them (tests and the CLI use it to see a
   * delivery's effects right after sending it). Resolves with the errors of failed attempts.
   */
  drain(): Promise<unknown[]>;
}

/**
 * @example
 * const inbox = createWebhookInbox({ store, process: dispatchDelivery, log });
 * inbox.start();
 * // on the acknowledgement path:
 * if (await store.acceptDelivery({ id, name, payload }, Date.now())) inbox.notify();
 */
export function createWebhookInbox(options: WebhookInboxOptions): WebhookInbox {
  const { store } = options;
  const clock = options.clock ?? systemClock;
  const log = (options.log ?? pino({ level: "silent" })).child({ component: "webhook-inbox" });
  const concurrency = options.concurrency ?? 8;
  const leaseMs = options.leaseMs ?? 60_000;
  const pollMs = options.pollMs ?? 1000;
  const retryMs = options.retryMs ?? 1000;
  const maxAttempts = options.maxAttempts ?? 6;
  const workerId = options.workerId ?? `inbox-${randomUUID()}`;

  const inFlight = new Set<Promise<unknown>>();
  let active = false;
  let woken = false;
  let wake: (() => void) | undefined;
  let loop: Promise<void> | undefined;

  /** One delivery: process, then done or retry. Resolves with the error of a failed attempt. */
  const handle = async (delivery: InboxDelivery): Promise<unknown> => {
    let failure: unknown;
    try {
      await options.process(delivery);
    } catch (error) {
      failure = error;
    }
    try {
      if (failure === undefined) await store.finishDelivery(delivery.id, workerId);
      else if (delivery.attempts >= maxAttempts) {
        log.error({ err: failure, deliveryId: delivery.id, event: delivery.name, attempts: delivery.attempts }, "webhook handler failed too often; the delivery is given up");
        await store.finishDelivery(delivery.id, workerId);
      } else {
        const delayMs = retryMs * 2 ** (delivery.attempts - 1);
        log.warn({ err: failure, deliveryId: delivery.id, event: delivery.name, attempts: delivery.attempts, delayMs }, "webhook handler failed; the delivery will be retried");
        await store.finishDelivery(delivery.id, workerId, clock.now() + delayMs);
      }
    } catch (error) {
      // the lease runs out and the delivery is processed again
      log.warn({ err: error, deliveryId: delivery.id }, "could not record the end of a webhook delivery");
    }
    return failure;
  };

  const launch = (delivery: InboxDelivery): Promise<unknown> => {
    const done = handle(delivery).finally(() => {
      inFlight.delete(done);
      notify();
    });
    inFlight.add(done);
    return done;
  };

  const notify = () => {
    woken = true;
    const w = wake;
    wake = undefined;
    w?.();
  };

  const pollLoop = async () => {
    while (active) {
      woken = false;
      try {
        while (active && inFlight.size < concurrency) {
          const delivery = await store.claimDelivery(workerId, clock.now(), leaseMs);
          if (!delivery) break;
          void launch(delivery);
        }
      } catch (error) {
        log.warn({ err: error }, "webhook inbox poll failed");
      }
      if (!active) break;
      if (woken && inFlight.size < concurrency) continue;
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
    notify,
    start() {
      if (active) return;
      active = true;
      loop = pollLoop();
    },
    async stop() {
      if (!active) return;
      active = false;
      notify();
      await loop;
      await Promise.allSettled([...inFlight]);
    },
    async drain() {
      const failures: unknown[] = [];
      for (;;) {
        const delivery = await store.claimDelivery(workerId, clock.now(), leaseMs);
        if (!delivery) break;
        const failure = await launch(delivery);
        if (failure !== undefined) failures.push(failure);
      }
      await Promise.allSettled([...inFlight]);
      return failures;
    },
  };
}

/**
 * Delivering a run's results through the `RunOutputs` port (DESIGN D10), before the run is recorded
 * finished: transient failures (5xx, rate limits, a token that could not be minted, a network error)
 * are retried with backoff or the server's `retry-after` until the delivery deadline, which counts from
 * the first attempt and survives restarts (`deliveryStartedAt` on the run). The port guards every side
 * effect with markers, so a retry or a resume never delivers twice.
 */
import { NonRetriableError } from "../errors/non-retriable-error.ts";
import { scrubSecrets } from "../security/scrub-secrets.ts";
import { backoffDelay } from "../resilience/backoff.ts";
import { isTransient, retryAfterOf } from "../resilience/classify-error.ts";
import { persist, type RunContext } from "./run-context.ts";
import type { DeliveredOutputs, RunStatus } from "./types.ts";

export type DeliveryResult =
  | { kind: "delivered"; outputs: DeliveredOutputs }
  | { kind: "none" }
  | { kind: "failed"; error: string }
  | { kind: "aborted" };

const reasonOf = (error: unknown) => scrubSecrets(error instanceof Error ? error.message : String(error)).split("\n")[0]?.slice(0, 300) ?? "unknown error";

/**
 * Delivers the outputs of the run in `ctx` (once), storing them on the run. `status` is the status the
 * run will finish with if delivery succeeds (the port may act on it, e.g. record a reviewed SHA).
 *
 * @example
 * const delivery = await deliverOutputs(ctx, "succeeded", controller.signal);
 * if (delivery.kind === "failed") status = "failed";
 */
export async function deliverOutputs(ctx: RunContext, status: RunStatus, signal: AbortSignal): Promise<DeliveryResult> {
  const { deps, log } = ctx;
  const { store, clock } = deps;
  if (!deps.outputs) return { kind: "none" };
  if (ctx.run.outputs) return { kind: "delivered", outputs: ctx.run.outputs };
  const startedAt = ctx.run.deliveryStartedAt ?? clock.now();
  if (ctx.run.deliveryStartedAt === undefined) {
    await persist(() => store.updateRun(ctx.run.id, { deliveryStartedAt: startedAt }));
    ctx.run = { ...ctx.run, deliveryStartedAt: startedAt };
  }
  const deadline = startedAt + deps.deliveryDeadlineMs;
  for (let attempt = 1; ; attempt++) {
    if (signal.aborted) return { kind: "aborted" };
    try {
      const outputs = await deps.outputs.deliver({ ...ctx.run, status }, [...ctx.records.values()], signal);
      await persist(() => store.updateRun(ctx.run.id, { outputs }));
      ctx.run = { ...ctx.run, outputs };
      return { kind: "delivered", outputs };
    } catch (error) {
      if (signal.aborted) return { kind: "aborted" };
      const reason = reasonOf(error);
      // a GitHub call whose own few retries ran out is transient still: retried here until the deadline
      const delayMs = retryAfterOf(error) ?? backoffDelay(attempt, deps.backoff, deps.random);
      const permanent = error instanceof NonRetriableError || !isTransient(error);
      if (permanent || clock.now() + delayMs > deadline) {
        log.warn({ err: error, attempts: attempt }, "delivering the run's outputs failed");
        const why = permanent ? reason : `${reason} (still failing after ${attempt} attempt${attempt === 1 ? "" : "s"} over ${Math.round((clock.now() - startedAt) / 1000)} s)`;
        return { kind: "failed", error: `Octoflow could not deliver this run's results: ${why}` };
      }
      log.warn({ err: error, attempt, delayMs }, "delivering the run's outputs failed; retrying");
      try {
        await clock.sleep(delayMs, signal);
      } catch {
        return { kind: "aborted" };
      }
    }
  }
}

/**
 * Parking a run (DESIGN D14): when nothing can run and some steps wait for an outside event, the run
 * moves to `waiting` with the keys that wake it and its next poll, its job is re-enqueued for that poll
 * (or dropped when only an event can wake it), and the worker lets go — no slot, no timer, no lease.
 * `Engine.wake` (a webhook) or the poll runs it again on any replica.
 */
import { persist, type RunContext } from "./run-context.ts";
import type { RunWait, StepId, StepRecord } from "./types.ts";

/**
 * The marker an event leaves for a run that was still parking (its step waited, the run not yet);
 * listed with the other marker kinds in `src/store/marker-keys.ts`.
 */
export const wakeKey = (runId: string) => `wake:${runId}`;

export type ParkResult = { kind: "parked"; wait: RunWait } | { kind: "cancelled" };

/**
 * Parks the run in `ctx`, whose steps `parked` wait. Returns `cancelled` when the run was cancelled
 * meanwhile (the caller finishes it as cancelled).
 *
 * @param enqueue re-enqueues the run's job, due at `runAt`
 */
export async function parkRun(ctx: RunContext, parked: readonly StepId[], enqueue: (runAt: number) => Promise<void>): Promise<ParkResult> {
  const { deps } = ctx;
  const { store, clock } = deps;
  const waiting = parked.map((id) => ctx.records.get(id)).filter((r): r is StepRecord & { waiting: NonNullable<StepRecord["waiting"]> } => r?.waiting !== undefined);
  const now = clock.now();
  const wakeTimes = waiting.map((r) => r.waiting.wakeAt).filter((t): t is number => t !== undefined);
  const wakeAt = wakeTimes.length > 0 ? Math.min(...wakeTimes) : undefined;
  const wait: RunWait = {
    since: ctx.run.waiting?.since ?? now,
    keys: [...new Set(waiting.map((r) => r.waiting.key))],
    messages: waiting.map((r) => `${r.stepId}: ${r.waiting.message}`),
    ...(wakeAt !== undefined ? { wakeAt } : {}),
  };
  // Status first, then the job: a wake-up that reads the run as `waiting` enqueues it itself, and a
  // queue that skips runs still `running` (pg-boss) then accepts this job.
  if (!(await persist(() => store.transitionRun(ctx.run.id, ["running"], "waiting", { waiting: wait })))) return { kind: "cancelled" };
  ctx.run = { ...ctx.run, status: "waiting", waiting: wait };
  if (wakeAt !== undefined) await persist(() => enqueue(wakeAt));
  await ctx.recordEvent({ type: "run.waiting", runId: ctx.run.id, at: now, keys: wait.keys, messages: wait.messages, ...(wakeAt !== undefined ? { wakeAt } : {}) });
  // An approval or an event that came while this executor was still parking found the run `running`
  // (an approval only enqueued a job the parking may have replaced; an event left a marker): look again.
  const latest = waiting.some((r) => r.waiting.reason === "approval") ? await persist(() => store.getSteps(ctx.run.id)) : [];
  const approved = waiting.some((r) => r.waiting.reason === "approval" && latest.find((s) => s.stepId === r.stepId)?.approval);
  const woken = await persist(() => store.getMarker(wakeKey(ctx.run.id)));
  if (woken) await persist(() => store.setMarker(wakeKey(ctx.run.id), ""));
  if (approved || woken) await persist(() => enqueue(clock.now()));
  deps.log.info({ runId: ctx.run.id, keys: wait.keys, wakeAt }, "run parked");
  return { kind: "parked", wait };
}

/**
 * In-memory RunStore: a working fake with the same behaviour as the SQLite and PostgreSQL adapters
 * (it passes the same conformance suite). Values are cloned on the way in and out, so callers never
 * share objects with the store — exactly as with a database.
 */
import { MESSAGES_KEPT_PER_CONTEXT, type ConversationMessage, type ListRunsQuery, type QueueJob, type RunStore } from "../workflows/ports.ts";
import type { RunEvent, RunId, RunRecord, StepId, StepRecord } from "../workflows/types.ts";
import { TERMINAL_RUN_STATUSES } from "../workflows/types.ts";

interface JobRow {
  runId: RunId;
  runAt: number;
  attempts: number;
  workerId?: string;
  leaseUntil?: number;
  requeue: boolean;
  seq: number;
}

/** Deep copy of JSON-shaped data (what every adapter stores), as a database round trip would make. */
const clone = <T>(value: T): T => (value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T));

/** Applies a patch where keys explicitly set to `undefined` clear the field. */
export function applyPatch<T extends object>(target: T, patch: object): T {
  const out = { ...target } as Record<string, unknown>;
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) delete out[key];
    else out[key] = clone(value);
  }
  return out as T;
}

/**
 * A list limit every adapter reads the same way: a whole number in [0, max]; a missing or
 * non-numeric one is `fallback` (-1: no limit). SQL refuses `LIMIT 2.5` and reads `LIMIT NaN` as a column.
 */
export function wholeLimit(limit: number | undefined, fallback: number, max: number): number {
  if (limit === undefined || Number.isNaN(limit)) return fallback;
  return Math.max(0, Math.min(Math.floor(limit), max));
}

/**
 * Creates an empty in-memory store.
 *
 * @example
 * const store = createMemoryRunStore();
 * const engine = createEngine({ store, queue, agents, progress, clock, log });
 */
export function createMemoryRunStore(): RunStore {
  const runs = new Map<RunId, RunRecord>();
  /** Non-terminal runs by concurrency key (kept in step with `runs`). */
  const activeByKey = new Map<string, Set<RunId>>();
  const runSeq = new Map<RunId, number>();
  const steps = new Map<RunId, StepRecord[]>();
  const events = new Map<RunId, RunEvent[]>();
  const deliveries = new Map<string, string>();
  const messages = new Map<string, ConversationMessage[]>();
  const markers = new Map<string, string>();
  const jobs = new Map<RunId, JobRow>();
  let seq = 0;
  let closed = false;

  const check = (): void => {
    if (closed) throw new Error("the run store is closed");
  };
  const requireRun = (id: RunId): RunRecord => {
    const run = runs.get(id);
    if (!run) throw new Error(`run ${id} does not exist`);
    return run;
  };
  const isTerminal = (run: RunRecord) => TERMINAL_RUN_STATUSES.includes(run.status);
  const byAge = (a: RunRecord, b: RunRecord) => a.createdAt - b.createdAt || (runSeq.get(a.id) ?? 0) - (runSeq.get(b.id) ?? 0);
  const save = (run: RunRecord) => {
    const previous = runs.get(run.id);
    if (previous && previous.concurrencyKey !== run.concurrencyKey) activeByKey.get(previous.concurrencyKey)?.delete(run.id);
    runs.set(run.id, run);
    const set = activeByKey.get(run.concurrencyKey) ?? new Set<RunId>();
    if (isTerminal(run)) set.delete(run.id);
    else set.add(run.id);
    if (set.size > 0) activeByKey.set(run.concurrencyKey, set);
    else activeByKey.delete(run.concurrencyKey);
  };

  const store: RunStore = {
    async createRun(run, stepRecords, options = {}) {
      check();
      if (runs.has(run.id)) throw new Error(`run ${run.id} already exists`);
      if (new Set(stepRecords.map((s) => s.stepId)).size !== stepRecords.length) throw new Error(`run ${run.id} has duplicate step ids`);
      runSeq.set(run.id, ++seq);
      save(clone(run));
      steps.set(run.id, clone(stepRecords));
      events.set(run.id, []);
      if (options.enqueue) jobs.set(run.id, { runId: run.id, runAt: run.createdAt, attempts: 0, requeue: false, seq: ++seq });
    },
    async getRun(id) {
      check();
      const run = runs.get(id);
      return run ? clone(run) : undefined;
    },
    async getRunStatus(id) {
      check();
      return runs.get(id)?.status;
    },
    async listRuns(query: ListRunsQuery = {}) {
      check();
      const limit = wholeLimit(query.limit, 50, 1000);
      return [...runs.values()]
        .filter((r) => (query.status ? r.status === query.status : true))
        .filter((r) => (query.workflow ? r.workflow === query.workflow : true))
        .filter((r) => (query.repo ? `${r.trigger.repo.owner}/${r.trigger.repo.name}` === query.repo : true))
        .sort((a, b) => -byAge(a, b))
        .slice(0, limit)
        .map(clone);
    },
    async updateRun(id, patch) {
      check();
      save(applyPatch(requireRun(id), patch));
    },
    async transitionRun(id, from, to, patch = {}) {
      check();
      const run = runs.get(id);
      if (!run || !from.includes(run.status)) return false;
      save({ ...applyPatch(run, patch), status: to });
      return true;
    },
    async findActiveRuns(concurrencyKey) {
      check();
      return [...(activeByKey.get(concurrencyKey) ?? [])]
        .map((id) => runs.get(id) as RunRecord)
        .sort(byAge)
        .map(clone);
    },
    async listUnfinishedRuns() {
      check();
      return [...runs.values()].filter((r) => !isTerminal(r) || (r.status === "cancelled" && r.finishedAt === undefined)).sort(byAge).map(clone);
    },
    async finishRun(id, from, event, patch = {}) {
      check();
      const run = runs.get(id);
      if (!run || !from.includes(run.status) || (isTerminal(run) && run.finishedAt !== undefined)) return false;
      save({ ...applyPatch(run, { finishedAt: event.at, ...patch }), status: event.status });
      events.get(id)?.push(clone(event));
      return true;
    },
    async getSteps(runId) {
      check();
      return clone(steps.get(runId) ?? []);
    },
    async updateStep(runId, stepId: StepId, patch) {
      check();
      const list = steps.get(runId);
      const index = list?.findIndex((s) => s.stepId === stepId) ?? -1;
      const current = list?.[index];
      if (!list || !current) throw new Error(`step ${stepId} of run ${runId} does not exist`);
      list[index] = applyPatch(current, patch);
    },
    async appendEvent(event) {
      check();
      requireRun(event.runId);
      events.get(event.runId)?.push(clone(event));
    },
    async listEvents(runId, options = {}) {
      check();
      const list = events.get(runId) ?? [];
      const limit = wholeLimit(options.limit, -1, list.length);
      return clone(limit === -1 ? list : list.slice(list.length - limit));
    },
    async recordDelivery(deliveryId, event) {
      check();
      if (deliveries.has(deliveryId)) return false;
      deliveries.set(deliveryId, event);
      return true;
    },
    async appendMessage(contextKey, message) {
      check();
      const list = messages.get(contextKey) ?? [];
      list.push(clone(message));
      if (list.length > MESSAGES_KEPT_PER_CONTEXT) list.splice(0, list.length - MESSAGES_KEPT_PER_CONTEXT);
      messages.set(contextKey, list);
    },
    async listMessages(contextKey, options = {}) {
      check();
      const list = messages.get(contextKey) ?? [];
      const limit = wholeLimit(options.limit, -1, list.length);
      return clone(limit === -1 ? list : list.slice(list.length - limit));
    },
    async getMarker(key) {
      check();
      return markers.get(key);
    },
    async putMarkerIfAbsent(key, value) {
      check();
      const existing = markers.get(key);
      if (existing !== undefined) return existing;
      markers.set(key, value);
      return value;
    },
    async setMarker(key, value) {
      check();
      markers.set(key, value);
    },
    async enqueueJob(runId, runAt) {
      check();
      requireRun(runId);
      const job = jobs.get(runId);
      if (!job) jobs.set(runId, { runId, runAt, attempts: 0, requeue: false, seq: ++seq });
      else if (job.workerId !== undefined) job.requeue = true;
      else job.runAt = Math.min(job.runAt, runAt);
    },
    async claimJob(workerId, now, leaseMs) {
      check();
      let job: JobRow | undefined;
      for (const j of jobs.values()) {
        if (j.runAt > now || (j.leaseUntil !== undefined && j.leaseUntil > now)) continue;
        if (!job || j.runAt < job.runAt || (j.runAt === job.runAt && j.seq < job.seq)) job = j;
      }
      if (!job) return undefined;
      job.workerId = workerId;
      job.leaseUntil = now + leaseMs;
      job.attempts += 1;
      job.requeue = false;
      const claimed: QueueJob = { runId: job.runId, attempts: job.attempts, runAt: job.runAt };
      return claimed;
    },
    async renewJob(runId, workerId, now, leaseMs) {
      check();
      const job = jobs.get(runId);
      if (!job || job.workerId !== workerId) return false;
      job.leaseUntil = now + leaseMs;
      return true;
    },
    async completeJob(runId, workerId) {
      check();
      const job = jobs.get(runId);
      if (!job || job.workerId !== workerId) return false;
      if (job.requeue) {
        job.requeue = false;
        delete job.workerId;
        delete job.leaseUntil;
      } else jobs.delete(runId);
      return true;
    },
    async queueStats(now) {
      check();
      const waiting = [...jobs.values()].filter((j) => j.runAt <= now && (j.leaseUntil === undefined || j.leaseUntil <= now));
      const oldest = waiting.reduce((min, j) => Math.min(min, j.runAt), Infinity);
      return { depth: waiting.length, oldestAgeMs: waiting.length === 0 ? 0 : Math.max(0, now - oldest) };
    },
    async ping() {
      check();
    },
    async close() {
      closed = true;
    },
  };
  return store;
}

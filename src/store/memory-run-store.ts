/**
 * In-memory RunStore: a working fake with the same behaviour as the SQLite and PostgreSQL adapters
 * (it passes the same conformance suite). Records are kept serialised, so callers never share
 * objects with the store — exactly as with a database — and 10,000 runs cost the garbage collector
 * a few strings each. Job claims use an index (`job-index.ts`), never a scan.
 */
import { MESSAGES_KEPT_PER_CONTEXT, type ConversationMessage, type InboxDelivery, type ListRunsQuery, type QueueJob, type RunStore } from "../workflows/ports.ts";
import type { RunEvent, RunId, RunRecord, RunStatus, StepId, StepRecord } from "../workflows/types.ts";
import { TERMINAL_RUN_STATUSES } from "../workflows/types.ts";
import { createJobIndex, type IndexedJob } from "./job-index.ts";

interface JobRow extends IndexedJob {
  runId: RunId;
  runAt: number;
  attempts: number;
  workerId?: string;
  leaseUntil?: number;
  requeue: boolean;
}

interface InboxRow extends IndexedJob {
  id: string;
  name: string;
  payload?: string;
  attempts: number;
  workerId?: string;
  trace?: string;
}

interface RunRow {
  /** The record, serialised. */
  data: string;
  seq: number;
  status: RunStatus;
  workflow: string;
  repo: string;
  concurrencyKey: string;
  createdAt: number;
  finished: boolean;
}

/**
 * Applies a patch where keys explicitly set to `undefined` clear the field. The result shares the
 * patch's values: every caller serialises it at once.
 */
export function applyPatch<T extends object>(target: T, patch: object): T {
  const out = { ...target } as Record<string, unknown>;
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) delete out[key];
    else out[key] = value;
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
  /**
   * Rows hold records serialised (as a database would): one string per record is a single leaf for
   * the garbage collector instead of a graph of objects, and a read is one `JSON.parse`.
   */
  const runs = new Map<RunId, RunRow>();
  /** Non-terminal runs by concurrency key (kept in step with `runs`). */
  const activeByKey = new Map<string, Set<RunId>>();
  const steps = new Map<RunId, { index: Map<StepId, number>; rows: string[] }>();
  const events = new Map<RunId, string[]>();
  const deliveries = new Map<string, string>();
  const messages = new Map<string, string[]>();
  const markers = new Map<string, string>();
  const jobs = new Map<RunId, JobRow>();
  /** Claim order (available_at, seq) as in SQLite's `jobs_available` index: claims never scan. */
  const jobIndex = createJobIndex<JobRow>(() => jobs.values(), () => jobs.size);
  let seq = 0;
  const addJob = (runId: RunId, runAt: number) => {
    const job: JobRow = { runId, runAt, availableAt: runAt, attempts: 0, requeue: false, seq: ++seq, version: 0, live: true };
    jobs.set(runId, job);
    jobIndex.touch(job);
  };
  const inbox = new Map<string, InboxRow>();
  const pendingInbox = new Map<string, InboxRow>();
  const inboxIndex = createJobIndex<InboxRow>(() => pendingInbox.values(), () => pendingInbox.size);
  let closed = false;

  const check = (): void => {
    if (closed) throw new Error("the run store is closed");
  };
  const requireRun = (id: RunId): RunRow => {
    const row = runs.get(id);
    if (!row) throw new Error(`run ${id} does not exist`);
    return row;
  };
  const parse = <T>(text: string) => JSON.parse(text) as T;
  const record = (row: RunRow) => parse<RunRecord>(row.data);
  const isTerminal = (status: RunStatus) => TERMINAL_RUN_STATUSES.includes(status);
  const byAge = (a: RunRow, b: RunRow) => a.createdAt - b.createdAt || a.seq - b.seq;
  const save = (run: RunRecord, runSeq: number) => {
    const previous = runs.get(run.id);
    if (previous && previous.concurrencyKey !== run.concurrencyKey) activeByKey.get(previous.concurrencyKey)?.delete(run.id);
    runs.set(run.id, {
      data: JSON.stringify(run),
      seq: runSeq,
      status: run.status,
      workflow: run.workflow,
      repo: `${run.trigger.repo.owner}/${run.trigger.repo.name}`,
      concurrencyKey: run.concurrencyKey,
      createdAt: run.createdAt,
      finished: run.finishedAt !== undefined,
    });
    const set = activeByKey.get(run.concurrencyKey) ?? new Set<RunId>();
    if (isTerminal(run.status)) set.delete(run.id);
    else set.add(run.id);
    if (set.size > 0) activeByKey.set(run.concurrencyKey, set);
    else activeByKey.delete(run.concurrencyKey);
  };
  const latest = (list: string[], limit: number | undefined) => {
    const n = wholeLimit(limit, -1, list.length);
    return (n === -1 ? list : list.slice(list.length - n)).map((text) => parse<never>(text));
  };

  const store: RunStore = {
    async createRun(run, stepRecords, options = {}) {
      check();
      if (runs.has(run.id)) throw new Error(`run ${run.id} already exists`);
      const index = new Map(stepRecords.map((step, position) => [step.stepId, position]));
      if (index.size !== stepRecords.length) throw new Error(`run ${run.id} has duplicate step ids`);
      save(run, ++seq);
      steps.set(run.id, { index, rows: stepRecords.map((step) => JSON.stringify(step)) });
      events.set(run.id, []);
      if (options.enqueue) addJob(run.id, run.createdAt);
    },
    async getRun(id) {
      check();
      const row = runs.get(id);
      return row ? record(row) : undefined;
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
        .filter((r) => (query.repo ? r.repo === query.repo : true))
        .sort((a, b) => -byAge(a, b))
        .slice(0, limit)
        .map(record);
    },
    async updateRun(id, patch) {
      check();
      const row = requireRun(id);
      save(applyPatch(record(row), patch), row.seq);
    },
    async transitionRun(id, from, to, patch = {}) {
      check();
      const row = runs.get(id);
      if (!row || !from.includes(row.status)) return false;
      save({ ...applyPatch(record(row), patch), status: to }, row.seq);
      return true;
    },
    async findActiveRuns(concurrencyKey) {
      check();
      return [...(activeByKey.get(concurrencyKey) ?? [])]
        .map((id) => runs.get(id) as RunRow)
        .sort(byAge)
        .map(record);
    },
    async listUnfinishedRuns() {
      check();
      return [...runs.values()].filter((r) => (!isTerminal(r.status) && r.status !== "waiting") || (r.status === "cancelled" && !r.finished)).sort(byAge).map(record);
    },
    async finishRun(id, from, event, patch = {}) {
      check();
      const row = runs.get(id);
      if (!row || !from.includes(row.status) || (isTerminal(row.status) && row.finished)) return false;
      save({ ...applyPatch(record(row), { finishedAt: event.at, ...patch }), status: event.status }, row.seq);
      events.get(id)?.push(JSON.stringify(event));
      return true;
    },
    async getSteps(runId) {
      check();
      return (steps.get(runId)?.rows ?? []).map((text) => parse<StepRecord>(text));
    },
    async updateStep(runId, stepId: StepId, patch) {
      check();
      const table = steps.get(runId);
      const position = table?.index.get(stepId);
      const current = position === undefined ? undefined : table?.rows[position];
      if (!table || position === undefined || current === undefined) throw new Error(`step ${stepId} of run ${runId} does not exist`);
      table.rows[position] = JSON.stringify(applyPatch(parse<StepRecord>(current), patch));
    },
    async appendEvent(event) {
      check();
      requireRun(event.runId);
      events.get(event.runId)?.push(JSON.stringify(event));
    },
    async listEvents(runId, options = {}) {
      check();
      return latest(events.get(runId) ?? [], options.limit) as RunEvent[];
    },
    async recordDelivery(deliveryId, event) {
      check();
      if (deliveries.has(deliveryId)) return false;
      deliveries.set(deliveryId, event);
      return true;
    },
    async acceptDelivery(delivery, now) {
      check();
      if (inbox.has(delivery.id)) return false;
      const row: InboxRow = { id: delivery.id, name: delivery.name, payload: delivery.payload, attempts: 0, availableAt: now, seq: ++seq, version: 0, live: true };
      if (delivery.trace) row.trace = JSON.stringify(delivery.trace);
      inbox.set(row.id, row);
      pendingInbox.set(row.id, row);
      inboxIndex.touch(row);
      return true;
    },
    async claimDelivery(workerId, now, leaseMs) {
      check();
      const row = inboxIndex.peekAvailable(now);
      if (!row || row.payload === undefined) return undefined;
      row.workerId = workerId;
      row.availableAt = now + leaseMs;
      row.attempts += 1;
      inboxIndex.touch(row);
      const delivery: InboxDelivery = { id: row.id, name: row.name, payload: row.payload, attempts: row.attempts };
      if (row.trace) delivery.trace = JSON.parse(row.trace) as Record<string, string>;
      return delivery;
    },
    async finishDelivery(id, workerId, retryAt) {
      check();
      const row = pendingInbox.get(id);
      if (!row || row.workerId !== workerId) return false;
      delete row.workerId;
      if (retryAt === undefined) {
        delete row.payload;
        row.live = false;
        pendingInbox.delete(id);
      } else {
        row.availableAt = retryAt;
        inboxIndex.touch(row);
      }
      return true;
    },
    async appendMessage(contextKey, message) {
      check();
      const list = messages.get(contextKey) ?? [];
      list.push(JSON.stringify(message));
      if (list.length > MESSAGES_KEPT_PER_CONTEXT) list.splice(0, list.length - MESSAGES_KEPT_PER_CONTEXT);
      messages.set(contextKey, list);
    },
    async listMessages(contextKey, options = {}) {
      check();
      return latest(messages.get(contextKey) ?? [], options.limit) as ConversationMessage[];
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
      if (!job) addJob(runId, runAt);
      else if (job.workerId !== undefined) {
        // leased: runs again when released, at the earliest time asked for during this lease
        job.runAt = job.requeue ? Math.min(job.runAt, runAt) : runAt;
        job.requeue = true;
      }
      else if (runAt < job.runAt) {
        job.runAt = runAt;
        job.availableAt = runAt;
        jobIndex.touch(job);
      }
    },
    async claimJob(workerId, now, leaseMs) {
      check();
      const job = jobIndex.peekAvailable(now);
      if (!job) return undefined;
      job.workerId = workerId;
      job.leaseUntil = now + leaseMs;
      job.availableAt = now + leaseMs;
      job.attempts += 1;
      job.requeue = false;
      jobIndex.touch(job);
      const claimed: QueueJob = { runId: job.runId, attempts: job.attempts, runAt: job.runAt };
      return claimed;
    },
    async renewJob(runId, workerId, now, leaseMs) {
      check();
      const job = jobs.get(runId);
      if (!job || job.workerId !== workerId) return false;
      job.leaseUntil = now + leaseMs;
      job.availableAt = now + leaseMs;
      jobIndex.touch(job);
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
        job.availableAt = job.runAt;
        jobIndex.touch(job);
      } else {
        job.live = false;
        jobs.delete(runId);
      }
      return true;
    },
    async queueStats(now) {
      check();
      let depth = 0;
      let oldest = Infinity;
      for (const job of jobs.values()) {
        if (job.availableAt > now) continue;
        depth += 1;
        oldest = Math.min(oldest, job.runAt);
      }
      return { depth, oldestAgeMs: depth === 0 ? 0 : Math.max(0, now - oldest) };
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

/**
 * The in-memory store's indexed claims against SQLite's: the same seeded sequence of enqueue / claim /
 * renew / complete / stats calls must give the same answers from both, call by call. A second check
 * pins the index bound: renewals do not grow it without limit.
 */
import { describe, expect, it } from "vitest";
import { createJobIndex, type IndexedJob } from "../../src/store/job-index.ts";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import { createSqliteRunStore } from "../../src/store/sqlite-run-store.ts";
import type { RunStore } from "../../src/workflows/ports.ts";
import type { RunId } from "../../src/workflows/types.ts";
import { sampleRun } from "./run-store.contract.ts";

/** Small deterministic PRNG (mulberry32), so a failure names a reproducible seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Op = (store: RunStore) => Promise<unknown>;

function script(seed: number, runIds: RunId[], length: number): Op[] {
  const next = random(seed);
  const pick = <T>(items: T[]) => items[Math.floor(next() * items.length)] as T;
  const workers = ["w1", "w2", "w3"];
  const ops: Op[] = [];
  let now = 1_000;
  for (let i = 0; i < length; i++) {
    now += Math.floor(next() * 40);
    const at = now;
    const roll = next();
    const runId = pick(runIds);
    const worker = pick(workers);
    if (roll < 0.3) {
      const runAt = at + Math.floor(next() * 200) - 100;
      ops.push((s) => s.enqueueJob(runId, runAt));
    } else if (roll < 0.6) {
      const lease = pick([0, 50, 150, 400]);
      ops.push((s) => s.claimJob(worker, at, lease));
    } else if (roll < 0.75) {
      const lease = pick([0, 100, 300]);
      ops.push((s) => s.renewJob(runId, worker, at, lease));
    } else if (roll < 0.92) {
      ops.push((s) => s.completeJob(runId, worker));
    } else {
      ops.push((s) => s.queueStats(at));
    }
  }
  return ops;
}

describe("indexed claims: memory store = SQLite store", () => {
  for (const seed of [1, 7, 42, 1234, 98765]) {
    it(`seed ${seed}: 600 job operations over 12 runs answer the same`, async () => {
      const memory = createMemoryRunStore();
      const sqlite = createSqliteRunStore({ path: ":memory:" });
      try {
        const runs = Array.from({ length: 12 }, (_, i) => sampleRun({ createdAt: 500 + (i % 4) }));
        for (const run of runs) {
          await memory.createRun(run, [], { enqueue: run.createdAt % 2 === 0 });
          await sqlite.createRun(run, [], { enqueue: run.createdAt % 2 === 0 });
        }
        const ops = script(seed, runs.map((r) => r.id), 600);
        for (const [index, op] of ops.entries()) {
          const [a, b] = [await op(memory), await op(sqlite)];
          expect({ index, answer: a }).toEqual({ index, answer: b });
        }
      } finally {
        await memory.close();
        await sqlite.close();
      }
    });
  }
});

describe("job index", () => {
  it("stays O(live jobs) under many key changes and drops stale entries", () => {
    const jobs = new Map<number, IndexedJob>();
    const index = createJobIndex(() => jobs.values(), () => jobs.size);
    for (let i = 0; i < 100; i++) {
      const job: IndexedJob = { availableAt: 1000 + i, seq: i, version: 0, live: true };
      jobs.set(i, job);
      index.touch(job);
    }
    // 50 renewals of every job: without compaction 5,100 entries.
    for (let round = 0; round < 50; round++) {
      for (const job of jobs.values()) {
        job.availableAt += 10;
        index.touch(job);
      }
    }
    expect(index.size()).toBeLessThanOrEqual(2 * jobs.size + 64);
    expect(index.peekAvailable(1000)).toBeUndefined();
    expect(index.peekAvailable(1500)).toBe(jobs.get(0));
    const first = jobs.get(0) as IndexedJob;
    first.live = false;
    jobs.delete(0);
    expect(index.peekAvailable(1501)).toBe(jobs.get(1));
  });
});

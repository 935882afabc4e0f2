import { describe, expect, it } from "vitest";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import { runStoreContract, sampleRun } from "./run-store.contract.ts";

runStoreContract("memory", async () => {
  const store = createMemoryRunStore();
  return { store, cleanup: () => store.close() };
});

describe("memory store specifics", () => {
  it("reads list limits like the SQL adapters: rounded down, NaN ignored", async () => {
    const store = createMemoryRunStore();
    const runs = [sampleRun({ createdAt: 1 }), sampleRun({ createdAt: 2 }), sampleRun({ createdAt: 3 })];
    for (const run of runs) await store.createRun(run, []);
    for (let i = 0; i < 3; i++) await store.appendEvent({ type: "run.started", runId: runs[0]!.id, at: i });
    expect(await store.listRuns({ limit: 2.5 })).toHaveLength(2);
    expect(await store.listRuns({ limit: Number.NaN })).toHaveLength(3);
    expect((await store.listEvents(runs[0]!.id, { limit: 1.9 })).map((e) => e.at)).toEqual([2]);
    expect(await store.listEvents(runs[0]!.id, { limit: Number.NaN })).toHaveLength(3);
    expect(await store.listEvents(runs[0]!.id, { limit: 0 })).toEqual([]);
  });
});

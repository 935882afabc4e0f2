import { describe, expect, it } from "vitest";
import { composeSinks } from "../../src/workflows/compose-sinks.ts";
import { asRunId, type RunRecord } from "../../src/workflows/types.ts";
import { sampleRun } from "../store/run-store.contract.ts";
import { createRecordingSink } from "./fakes/recording-sink.ts";

describe("composeSinks", () => {
  it("delivers every event to every sink, even when one throws or rejects", async () => {
    const first = createRecordingSink({ fail: "throw" });
    const second = createRecordingSink({ fail: "reject" });
    const third = createRecordingSink();
    const run: RunRecord = sampleRun();
    const sink = composeSinks([first, second, third]);
    await sink.emit({ type: "run.started", runId: asRunId(run.id), at: 1 }, run);
    await sink.emit({ type: "run.started", runId: asRunId(run.id), at: 2 }, run);
    for (const s of [first, second, third]) expect(s.events.map((e) => e.at)).toEqual([1, 2]);
  });
});

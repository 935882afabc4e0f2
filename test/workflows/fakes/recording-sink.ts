/** A ProgressSink that records every event (and can be told to fail). */
import type { ProgressSink } from "../../../src/workflows/ports.ts";
import type { RunEvent, RunRecord } from "../../../src/workflows/types.ts";

export interface RecordingSink extends ProgressSink {
  events: RunEvent[];
  runs: RunRecord[];
  types(): string[];
}

export function createRecordingSink(options: { fail?: "throw" | "reject" } = {}): RecordingSink {
  const sink: RecordingSink = {
    events: [],
    runs: [],
    types: () => sink.events.map((e) => ("stepId" in e ? `${e.type}:${e.stepId}` : e.type)),
    emit(event, run) {
      sink.events.push(event);
      sink.runs.push(run);
      if (options.fail === "throw") throw new Error("sink exploded");
      if (options.fail === "reject") return Promise.reject(new Error("sink rejected"));
      return undefined;
    },
  };
  return sink;
}

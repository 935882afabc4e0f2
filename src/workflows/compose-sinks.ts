/**
 * Fans engine events out to several ProgressSinks (check run, sticky comment, metrics, CLI table).
 * A sink that throws or rejects is logged and never affects the run or the other sinks.
 */
import type { Logger } from "pino";
import type { ProgressSink } from "./ports.ts";

/**
 * Combines sinks; each event reaches every sink in order of the list.
 *
 * @example
 * const progress = composeSinks([checkRunReporter, commentReporter], log);
 */
export function composeSinks(sinks: readonly ProgressSink[], log?: Logger): ProgressSink {
  return {
    async emit(event, run) {
      await Promise.all(
        sinks.map(async (sink) => {
          try {
            await sink.emit(event, run);
          } catch (error) {
            log?.warn({ err: error, event: event.type, runId: event.runId }, "progress sink failed");
          }
        }),
      );
    },
  };
}

/** A sink that drops every event. */
export const nullSink: ProgressSink = { emit: () => undefined };

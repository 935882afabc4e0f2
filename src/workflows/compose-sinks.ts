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

/**
 * Waits for progress-sink writes still in flight, but not forever: a sink that never answers (a
 * GitHub write without a response) must not hold a queue worker or a webhook handler after the
 * run's state is stored. Rejections are the caller's to log; a timeout is logged here.
 *
 * @example
 * await drainSinks(pendingEmits, deps.sinkDrainMs, log);
 */
export async function drainSinks(pending: Iterable<Promise<unknown>>, maxMs: number, log?: Logger): Promise<void> {
  const all = [...pending];
  if (all.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<true>((resolve) => {
    timer = setTimeout(() => resolve(true), maxMs);
    timer.unref?.();
  });
  const outcome = await Promise.race([Promise.allSettled(all).then(() => false as const), timedOut]);
  clearTimeout(timer);
  if (outcome) log?.warn({ pending: all.length, waitedMs: maxMs }, "progress sinks did not finish in time; moving on");
}

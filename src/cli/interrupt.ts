/**
 * Ctrl-C for a command running in the real process: the first SIGINT / SIGTERM aborts the returned
 * signal (the command cancels its run and reports it), a second one exits at once.
 */
import type { CliIo } from "./cli-io.ts";

export interface Interrupt {
  signal: AbortSignal;
  dispose(): void;
}

/**
 * @example
 * const interrupt = onInterrupt(io);
 * try { await runtime.execute(run, interrupt.signal); } finally { interrupt.dispose(); }
 */
export function onInterrupt(io: CliIo): Interrupt {
  const controller = new AbortController();
  // Only the process's own io owns the process's signals (tests call commands in-process).
  if (io.env !== process.env) return { signal: controller.signal, dispose: () => {} };
  const handler = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    io.stderr(`\noctoflow: ${signal === "SIGINT" ? "interrupted" : "terminated"}; cancelling the run (again to quit at once)\n`);
    controller.abort(new Error(signal));
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return {
    signal: controller.signal,
    dispose() {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    },
  };
}

/** A step attempt ran past its `timeout`; retried like any transient failure. */
export class StepTimeoutError extends Error {
  override readonly name = "StepTimeoutError";
  readonly timeoutMs: number;
  constructor(stepId: string, timeoutMs: number) {
    super(`step "${stepId}" timed out after ${formatMs(timeoutMs)}`);
    this.timeoutMs = timeoutMs;
  }
}

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** A retriable failure whose source said when to try again (`retry-after`, `retry-after-ms`). */
export class RetryAfterError extends Error {
  override readonly name = "RetryAfterError";
  /** Milliseconds to wait before the next attempt. */
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number, options?: { cause?: unknown }) {
    super(message, options);
    this.retryAfterMs = retryAfterMs;
  }
}

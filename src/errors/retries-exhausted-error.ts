import { ExternalServiceError } from "./external-service-error.ts";
import { RetryAfterError } from "./retry-after-error.ts";

/**
 * A call's retry layer (`withRetry` in `src/resilience/`) gave up on it: every attempt the policy allows
 * failed, or the server asked to wait longer than the policy waits. This is the decision carried on the
 * error: no other immediate retry loop (a step's retries) sends it again. `retriable` stays true because a
 * later, durable retry (a delivery retried over minutes, across restarts) may still succeed.
 */
export class RetriesExhaustedError extends ExternalServiceError {
  override readonly name = "RetriesExhaustedError";
  /** Attempts made, the first one included. */
  readonly attempts: number;
  /** The server's last "try again after" hint, when it gave one. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, details: { service: string; attempts: number; last: Error }) {
    const status = statusOf(details.last);
    super(message, { service: details.service, retriable: true, cause: details.last, ...(status === undefined ? {} : { status }) });
    this.attempts = details.attempts;
    this.retryAfterMs = details.last instanceof RetryAfterError ? details.last.retryAfterMs : undefined;
  }
}

function statusOf(error: Error): number | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const status = (current as { status?: unknown }).status;
    if (typeof status === "number") return status;
    current = current.cause;
  }
  return undefined;
}

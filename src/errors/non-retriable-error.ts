/** A failure that retrying cannot fix (bad request, auth, quota exhausted, invalid config). */
export class NonRetriableError extends Error {
  override readonly name = "NonRetriableError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

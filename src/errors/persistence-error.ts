/** A store write failed: the execution stops (the run resumes later); the step is not failed. */
export class PersistenceError extends Error {
  override readonly name = "PersistenceError";
  constructor(cause: unknown) {
    super(`persisting run state failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

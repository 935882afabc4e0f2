/**
 * A request that the run's current state does not allow (retrying a run that is still active or
 * succeeded, or one another process changed meanwhile). The caller tells the user; nothing is wrong
 * with any configuration.
 */
export class RunStateError extends Error {
  override readonly name = "RunStateError";
}

/** Exit codes of the `run`, `replay`, `runs` and `action` commands. */
export const EXIT = {
  ok: 0,
  /** The run or the operation failed (network, GitHub, model, the run itself). */
  failed: 1,
  /** Bad arguments or missing credentials: nothing was done. */
  usage: 2,
  /** Interrupted (Ctrl-C / SIGTERM): the run was cancelled. */
  cancelled: 130,
} as const;

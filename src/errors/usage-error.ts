/**
 * Bad command-line arguments or missing credentials. The command prints its usage line and the
 * reason, exits 2, and has done nothing (no GitHub write, no run recorded).
 */
export class UsageError extends Error {
  override readonly name = "UsageError";
  /** The usage line of the command that refused the arguments. */
  readonly usage: string;
  constructor(message: string, usage: string) {
    super(message);
    this.usage = usage;
  }
}

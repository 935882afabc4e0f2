/** Why a run's signal was aborted. */
export class RunAbort extends Error {
  override readonly name = "RunAbort";
  readonly kind: "cancelled" | "shutdown";
  constructor(kind: "cancelled" | "shutdown", message: string) {
    super(message);
    this.kind = kind;
  }
}

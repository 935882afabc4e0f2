/** A condition that cannot be parsed; `position` is the 0-based offset in the source. */
export class ExpressionError extends Error {
  override readonly name = "ExpressionError";
  readonly position: number;
  constructor(message: string, position: number) {
    super(message);
    this.position = position;
  }
}

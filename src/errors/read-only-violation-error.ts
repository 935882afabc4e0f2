/** A write (POST/PATCH/PUT/DELETE) attempted through a read-only client. */
export class ReadOnlyViolationError extends Error {
  override readonly name = "ReadOnlyViolationError";
  readonly method: string;
  readonly route: string;
  constructor(method: string, route: string) {
    super(`refused ${method} ${route}: this command never writes to GitHub`);
    this.method = method;
    this.route = route;
  }
}

/**
 * A workspace request the caller (usually a model through a tool) can correct: a refused or malformed
 * path, a file that does not exist, a binary file read as text. The message says what to do instead.
 */
export class WorkspacePathError extends Error {
  override readonly name = "WorkspacePathError";
  readonly path: string;
  constructor(path: string, message: string) {
    super(message);
    this.path = path;
  }
}

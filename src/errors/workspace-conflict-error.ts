/**
 * Two steps changed the same lines of a file in different ways. The workspace throws it as the `cause`
 * of a `NonRetriableError` (merging the same layers again cannot help): the step that joins them fails
 * with a message naming the file, the lines and both steps.
 */
export class WorkspaceConflictError extends Error {
  override readonly name = "WorkspaceConflictError";
  readonly path: string;
  /** The two steps whose layers conflict, in plan order. */
  readonly steps: [string, string];
  /** 1-based line range of the conflict in the version both steps started from. */
  readonly lines: { from: number; to: number };
  constructor(details: { path: string; steps: [string, string]; lines: { from: number; to: number } }) {
    const range = details.lines.from === details.lines.to ? `line ${details.lines.from}` : `lines ${details.lines.from}–${details.lines.to}`;
    super(`Steps "${details.steps[0]}" and "${details.steps[1]}" changed ${details.path} (${range}) in different ways; the changes cannot be merged.`);
    this.path = details.path;
    this.steps = details.steps;
    this.lines = details.lines;
  }
}

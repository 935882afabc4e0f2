/** The target cannot be read: a missing repository / issue, a rejected token. Exit 1 with this message. */
export class TargetError extends Error {
  override readonly name = "TargetError";
}

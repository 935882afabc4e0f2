/**
 * A model (or an agent backend) answered, but not in the expected format. Sending the same request again
 * is pointless at the call level; a new attempt of the step (a new sample) may well succeed.
 */
export class InvalidOutputError extends Error {
  override readonly name = "InvalidOutputError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * A configuration problem a user caused and can fix: shown to them as-is
 * (start-up output, check run, sticky comment, `octoflow validate`).
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  /** One line per problem, each naming the file / key / line where known. */
  readonly problems: string[];

  constructor(message: string, options: { problems?: string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.problems = options.problems ?? [message];
  }
}

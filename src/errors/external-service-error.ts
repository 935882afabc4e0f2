/** A failure of a service Octoflow depends on (a model provider, Codegen, GitHub). */
export class ExternalServiceError extends Error {
  override readonly name: string = "ExternalServiceError";
  readonly service: string;
  readonly status: number | undefined;
  /** Whether trying again may succeed (408/409/429/5xx/529, network errors). */
  readonly retriable: boolean;
  constructor(message: string, details: { service: string; status?: number; retriable: boolean; cause?: unknown }) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.service = details.service;
    this.status = details.status;
    this.retriable = details.retriable;
  }
}

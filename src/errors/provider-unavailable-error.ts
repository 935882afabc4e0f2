/** The provider's circuit breaker is open: fail fast with words a user understands. */
export class ProviderUnavailableError extends Error {
  override readonly name = "ProviderUnavailableError";
  readonly provider: string;
  constructor(provider: string, options?: { cause?: unknown }) {
    super(`The model provider "${provider}" is unavailable right now (too many recent failures); try again in a minute.`, options);
    this.provider = provider;
  }
}

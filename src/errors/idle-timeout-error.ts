/** A request received nothing (no headers, no body bytes) for its idle limit and was cut off. */
export class IdleTimeoutError extends Error {
  override readonly name = "IdleTimeoutError";
  readonly idleMs: number;
  constructor(idleMs: number) {
    super(`nothing received for ${idleMs >= 1000 ? `${Math.round(idleMs / 1000)} s` : `${idleMs} ms`}`);
    this.idleMs = idleMs;
  }
}

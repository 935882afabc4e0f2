/**
 * An HTTP answer that was not a success, as seen by our own `fetch` callers (Codegen). The AI SDK
 * raises its own `APICallError`; `classifyError` understands both.
 */
export class HttpResponseError extends Error {
  override readonly name = "HttpResponseError";
  readonly status: number;
  /** Response headers, lower-case names. */
  readonly headers: Record<string, string>;
  /** The response body (bounded), never echoed verbatim into user-facing messages. */
  readonly body: string;
  constructor(status: number, headers: Record<string, string>, body: string) {
    super(`HTTP ${status}`);
    this.status = status;
    this.headers = headers;
    this.body = body.slice(0, 8_000);
  }
}

/** Reads a non-success `Response` into an `HttpResponseError` (body capped at 8 KB). */
export async function httpResponseError(response: Response): Promise<HttpResponseError> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => {
    headers[key.toLowerCase()] = value;
  });
  const body = await response.text().catch(() => "");
  return new HttpResponseError(response.status, headers, body);
}

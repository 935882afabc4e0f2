/**
 * No call waits forever: a `fetch` that aborts its request with an `IdleTimeoutError` once nothing
 * arrived for `idleMs` — no response headers after the request was sent, or no body bytes while the
 * reader waits for some. A slow but flowing stream is never cut; a silent one is, and the error is
 * classified as transient (`classifyError`), so the call's retry layer tries again.
 */
import { IdleTimeoutError } from "../errors/idle-timeout-error.ts";

export interface IdleTimeoutOptions {
  /** Longest silence allowed, in milliseconds. */
  idleMs: number;
  /**
   * Read the whole body before resolving (for clients that read bodies in one go and swallow read
   * errors, like Octokit's): a stall mid-body then rejects the `fetch` itself.
   */
  bufferBody?: boolean;
}

/**
 * Wraps `fetch` with an idle timeout. The caller's own `signal` still cancels as before (its reason
 * wins).
 *
 * @example
 * const fetch = withIdleTimeout(pool.fetchFor("openai"), { idleMs: 90_000 });
 */
export function withIdleTimeout(fetch: typeof globalThis.fetch, options: IdleTimeoutOptions): typeof globalThis.fetch {
  const { idleMs } = options;
  const wrapped = async (input: Parameters<typeof globalThis.fetch>[0], init?: RequestInit): Promise<Response> => {
    const outer = init?.signal ?? undefined;
    outer?.throwIfAborted();
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let idle: IdleTimeoutError | undefined;
    const onOuterAbort = () => controller.abort(outer?.reason);
    outer?.addEventListener("abort", onOuterAbort, { once: true });
    const disarm = () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    };
    const arm = () => {
      disarm();
      timer = setTimeout(() => {
        idle = new IdleTimeoutError(idleMs);
        controller.abort(idle);
      }, idleMs);
    };
    const finish = () => {
      disarm();
      outer?.removeEventListener("abort", onOuterAbort);
    };
    // what a failure is, once it happened: our silence limit, the caller's cancellation, or the network's error
    const failure = (error: unknown) => (outer?.aborted ? outer.reason : (idle ?? error));

    arm();
    let response: Response;
    try {
      response = await fetch(input, { ...init, signal: controller.signal });
    } catch (error) {
      finish();
      throw failure(error);
    }
    disarm();
    if (!response.body) {
      finish();
      return response;
    }
    const reader = response.body.getReader();
    const read = async () => {
      arm();
      try {
        return await reader.read();
      } catch (error) {
        throw failure(error);
      } finally {
        disarm();
      }
    };
    if (options.bufferBody) {
      const chunks: Uint8Array[] = [];
      try {
        for (let next = await read(); !next.done; next = await read()) chunks.push(next.value);
      } finally {
        finish();
      }
      return rebuilt(response, new Blob(chunks as BlobPart[]));
    }
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(stream) {
          try {
            const next = await read();
            if (next.done) {
              finish();
              stream.close();
            } else stream.enqueue(next.value);
          } catch (error) {
            finish();
            stream.error(error);
          }
        },
        async cancel(reason) {
          finish();
          await reader.cancel(reason);
        },
      },
      { highWaterMark: 0 },
    );
    return rebuilt(response, body);
  };
  return wrapped as typeof globalThis.fetch;
}

/** The same response over another body, keeping what callers read from it (`url`, `redirected`). */
function rebuilt(response: Response, body: BodyInit): Response {
  const out = new Response(response.status === 204 || response.status === 205 || response.status === 304 ? null : body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  Object.defineProperty(out, "url", { value: response.url });
  Object.defineProperty(out, "redirected", { value: response.redirected });
  return out;
}

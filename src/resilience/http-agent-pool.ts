/**
 * Keep-alive connection pooling: one undici `Agent` per provider, exposed as a `fetch` the AI SDK
 * provider factories (and the Codegen client) accept. Connections are reused across calls and
 * closed by `close()`. Every request is cut off after `idleTimeoutMs` without a byte
 * (`withIdleTimeout`), so a provider that stops answering costs one idle limit, not minutes.
 */
import { Agent, fetch as undiciFetch } from "undici";
import { withIdleTimeout } from "./idle-timeout-fetch.ts";

export interface HttpPoolOptions {
  /** Idle time before a pooled connection is closed. */
  keepAliveTimeoutMs?: number;
  /** Maximum connections per origin. */
  connections?: number;
  /** TCP/TLS connect timeout. */
  connectTimeoutMs?: number;
  /** Longest wait for response headers (default 120 s). */
  headersTimeoutMs?: number;
  /** Longest silence inside a response body (default 300 s). */
  bodyTimeoutMs?: number;
  /**
   * Longest silence of a request, headers and body alike, before it is cut off with an
   * `IdleTimeoutError` (retried like any transient failure). Default 90 s (`OCTOFLOW_MODEL_IDLE_TIMEOUT_MS`).
   */
  idleTimeoutMs?: number;
}

export const DEFAULT_MODEL_IDLE_TIMEOUT_MS = 90_000;

export interface HttpPool {
  /** A `fetch` bound to the provider's own keep-alive pool. */
  fetchFor(provider: string): typeof globalThis.fetch;
  close(): Promise<void>;
}

/**
 * Creates the pool set. Agents are created lazily, one per provider name.
 *
 * @example
 * const pool = createHttpPool();
 * const openai = createOpenAI({ apiKey, fetch: pool.fetchFor("openai") });
 */
export function createHttpPool(options: HttpPoolOptions = {}): HttpPool {
  const agents = new Map<string, Agent>();
  const agentFor = (provider: string) => {
    let agent = agents.get(provider);
    if (!agent) {
      agent = new Agent({
        keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
        keepAliveMaxTimeout: Math.max(options.keepAliveTimeoutMs ?? 30_000, 60_000),
        connections: options.connections ?? 16,
        connect: { timeout: options.connectTimeoutMs ?? 10_000 },
        // generous bounds for a provider that stops answering without closing the connection;
        // streams send events (or pings) far more often, and callers cancel through AbortSignal
        headersTimeout: options.headersTimeoutMs ?? 120_000,
        bodyTimeout: options.bodyTimeoutMs ?? 300_000,
      });
      agents.set(provider, agent);
    }
    return agent;
  };
  return {
    fetchFor(provider) {
      const dispatcher = agentFor(provider);
      const bound = async (input: Parameters<typeof undiciFetch>[0], init?: Parameters<typeof undiciFetch>[1]) => {
        // undici marks a connection idle again on a later tick ("drain"); yielding one turn first lets
        // back-to-back calls reuse it instead of alternating between two sockets
        await new Promise<void>((resolve) => setImmediate(resolve));
        return undiciFetch(input, { ...init, dispatcher });
      };
      return withIdleTimeout(bound as unknown as typeof globalThis.fetch, { idleMs: options.idleTimeoutMs ?? DEFAULT_MODEL_IDLE_TIMEOUT_MS });
    },
    async close() {
      const all = [...agents.values()];
      agents.clear();
      await Promise.all(all.map((a) => a.close().catch(() => a.destroy())));
    },
  };
}

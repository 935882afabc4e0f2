/**
 * Keep-alive connection pooling: one undici `Agent` per provider, exposed as a `fetch` the AI SDK
 * provider factories (and the Codegen client) accept. Connections are reused across calls and
 * closed by `close()`.
 */
import { Agent, fetch as undiciFetch } from "undici";

export interface HttpPoolOptions {
  /** Idle time before a pooled connection is closed. */
  keepAliveTimeoutMs?: number;
  /** Maximum connections per origin. */
  connections?: number;
  /** TCP/TLS connect timeout. */
  connectTimeoutMs?: number;
}

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
        // streamed answers may pause for a long time; cancellation comes from the AbortSignal
        bodyTimeout: 0,
        headersTimeout: 0,
      });
      agents.set(provider, agent);
    }
    return agent;
  };
  return {
    fetchFor(provider) {
      const dispatcher = agentFor(provider);
      const bound = (input: Parameters<typeof undiciFetch>[0], init?: Parameters<typeof undiciFetch>[1]) =>
        undiciFetch(input, { ...init, dispatcher });
      return bound as unknown as typeof globalThis.fetch;
    },
    async close() {
      const all = [...agents.values()];
      agents.clear();
      await Promise.all(all.map((a) => a.close().catch(() => a.destroy())));
    },
  };
}

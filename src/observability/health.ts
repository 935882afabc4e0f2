/**
 * Readiness checks. Each check is a named async function that throws (or returns a reason)
 * when unhealthy; `/readyz` runs them all with a timeout and reports which failed.
 */
import { scrubSecrets } from "./logger.ts";

export type HealthCheck = () => Promise<void | { ok: boolean; detail?: unknown }>;

export interface ReadinessReport {
  status: "ok" | "unavailable";
  checks: Record<string, { ok: boolean; detail?: unknown; error?: string; ms: number }>;
}

export interface Health {
  /** Adds or replaces a named readiness check. */
  register(name: string, check: HealthCheck): void;
  readiness(): Promise<ReadinessReport>;
}

/**
 * @example
 * const health = createHealth();
 * health.register("store", () => store.ping());
 * const report = await health.readiness(); // { status: "ok", checks: { store: { ok: true, ms: 1 } } }
 */
export function createHealth(options: { timeoutMs?: number } = {}): Health {
  const checks = new Map<string, HealthCheck>();
  const timeoutMs = options.timeoutMs ?? 2000;
  return {
    register(name, check) {
      checks.set(name, check);
    },
    async readiness() {
      const entries = await Promise.all(
        [...checks].map(async ([name, check]) => {
          const started = performance.now();
          let timer: NodeJS.Timeout | undefined;
          try {
            const result = await Promise.race([
              check(),
              new Promise<never>((_, reject) => {
                timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
              }),
            ]);
            const ms = Math.round(performance.now() - started);
            if (result && typeof result === "object" && "ok" in result) {
              return [name, { ok: result.ok, ...(result.detail === undefined ? {} : { detail: result.detail }), ms }] as const;
            }
            return [name, { ok: true, ms }] as const;
          } catch (error) {
            const ms = Math.round(performance.now() - started);
            // /readyz is unauthenticated: a driver error may quote a connection string or a token
            const message = scrubSecrets(error instanceof Error ? error.message : String(error));
            return [name, { ok: false, error: message.length > 500 ? `${message.slice(0, 500)}…` : message, ms }] as const;
          } finally {
            clearTimeout(timer);
          }
        }),
      );
      const report: ReadinessReport = { status: "ok", checks: Object.fromEntries(entries) };
      if (entries.some(([, r]) => !r.ok)) report.status = "unavailable";
      return report;
    },
  };
}

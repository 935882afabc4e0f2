/**
 * The GitHub client type used outside webhook handlers (queue workers, reporters, outputs), the
 * factory that yields an installation-authenticated client for a run, and the resilience every
 * GitHub call of the app goes through (`resilientOctokit`).
 */
import type { ProbotOctokit } from "probot";
import { isRetriable } from "../resilience/classify-error.ts";
import { classifyGitHubError } from "../resilience/classify-github-error.ts";
import { withIdleTimeout } from "../resilience/idle-timeout-fetch.ts";
import type { Clock } from "../resilience/clock.ts";
import { GITHUB_RETRY_POLICY, withRetry, type RetryPolicy } from "../resilience/retry-policy.ts";
import { systemClock } from "../resilience/clock.ts";

/** An authenticated Octokit (Probot's, with throttling + retry plugins). */
export type GitHubClient = InstanceType<typeof ProbotOctokit>;

export interface GitHubClients {
  /** A client authenticated as the app installation that owns the repository. */
  forInstallation(installationId: number): Promise<GitHubClient>;
}

/**
 * A factory bound later to a Probot instance (the runtime exists before Probot loads the app).
 *
 * @example
 * const clients = createLateBoundClients();
 * // inside the Probot app function:
 * clients.bind((id) => app.auth(id));
 */
export function createLateBoundClients(): GitHubClients & { bind(auth: (installationId: number) => Promise<GitHubClient>): void } {
  let auth: ((installationId: number) => Promise<GitHubClient>) | undefined;
  return {
    bind(fn) {
      auth = fn;
    },
    forInstallation(installationId) {
      if (!auth) return Promise.reject(new Error("GitHub clients are not ready yet (the Probot app has not loaded)"));
      return auth(installationId);
    },
  };
}

/** Status of an Octokit `RequestError` (or undefined for other errors). */
export function httpStatus(error: unknown): number | undefined {
  if (error && typeof error === "object" && "status" in error && typeof (error as { status: unknown }).status === "number") {
    return (error as { status: number }).status;
  }
  return undefined;
}

export const DEFAULT_GITHUB_IDLE_TIMEOUT_MS = 60_000;

export interface GitHubResilienceOptions {
  /** Longest silence of one request before it is cut off and retried (`OCTOFLOW_GITHUB_IDLE_TIMEOUT_MS`). */
  idleTimeoutMs?: number;
  /** Default `GITHUB_RETRY_POLICY`: 4 attempts within two minutes of waiting. */
  policy?: RetryPolicy;
  /** Time for `retry-after` / `x-ratelimit-reset` and the delays; tests inject a fake one. */
  clock?: Clock;
  /** Random source in [0, 1) for jitter. */
  random?: () => number;
}

/**
 * Probot's Octokit class with the app's one GitHub retry layer in place of the plugins' own: primary
 * and secondary rate limits are retried after GitHub's `retry-after` / `x-ratelimit-reset` (up to a
 * minute each), 5xx, connection failures and silent requests with backoff, a few tries within a couple
 * of minutes (`GITHUB_RETRY_POLICY`); then the call fails with a `RetriesExhaustedError` ("GitHub failed
 * after 4 attempts: …") that keeps the HTTP status. Every request is cut off after `idleTimeoutMs`
 * without a byte. The throttling plugin still paces writes; its own retries and the retry plugin's are
 * off, so retries never stack. Other failures (404, 422, a permission refusal) pass unchanged.
 *
 * @example
 * await run(app, { Octokit: resilientOctokit(ProbotOctokit.plugin(instrumentation), { idleTimeoutMs: env.OCTOFLOW_GITHUB_IDLE_TIMEOUT_MS }) });
 */
export function resilientOctokit<C extends typeof ProbotOctokit>(Base: C, options: GitHubResilienceOptions = {}): C {
  const clock = options.clock ?? systemClock;
  const policy = options.policy ?? GITHUB_RETRY_POLICY;
  const idleMs = options.idleTimeoutMs ?? DEFAULT_GITHUB_IDLE_TIMEOUT_MS;
  const retries = (octokit: { hook: InstanceType<typeof ProbotOctokit>["hook"]; log: InstanceType<typeof ProbotOctokit>["log"] }) => {
    octokit.hook.wrap("request", (request, requestOptions) => {
      const signal = (requestOptions.request as { signal?: AbortSignal } | undefined)?.signal;
      return withRetry(
        async () => {
          try {
            return await request(requestOptions);
          } catch (error) {
            // transient failures are classified for the retries; the others pass as they are (callers read `status`)
            const classified = classifyGitHubError(error, clock.now());
            throw isRetriable(classified) ? classified : error;
          }
        },
        {
          policy,
          service: "GitHub",
          label: "GitHub",
          sleep: clock.sleep,
          ...(options.random ? { random: options.random } : {}),
          ...(signal ? { signal } : {}),
          onRetry: ({ attempt, delayMs, error }) => octokit.log.warn(`GitHub ${requestOptions.method} ${requestOptions.url} failed (${error.message}); attempt ${attempt + 1} in ${delayMs} ms`),
        },
      );
    });
    return {};
  };
  const never = () => false;
  return (Base.plugin(retries) as unknown as C).defaults((instance: Record<string, unknown>) => {
    const request = (instance.request ?? {}) as { fetch?: typeof globalThis.fetch };
    return {
      ...instance,
      retry: { ...(instance.retry as object), enabled: false },
      throttle: { ...(instance.throttle as object), onRateLimit: never, onSecondaryRateLimit: never },
      request: { ...request, fetch: withIdleTimeout(request.fetch ?? globalThis.fetch, { idleMs, bufferBody: true }) },
    };
  }) as C;
}

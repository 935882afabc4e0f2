/**
 * The CLI's GitHub client: `@octokit/rest` with the retry and throttling plugins (the same two
 * plugins Probot puts on an installation client), authenticated by a token instead of an app
 * installation, pointed at `GITHUB_API_URL` for GitHub Enterprise Server.
 */
import { Octokit } from "@octokit/rest";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { scrubSecrets } from "../observability/logger.ts";
import { ReadOnlyViolationError } from "../errors/read-only-violation-error.ts";

/** @octokit/rest with retry + throttling: the type every CLI command passes to the app's GitHub code. */
export const CliOctokit = Octokit.plugin(retry, throttling);
export type CliOctokit = InstanceType<typeof CliOctokit>;

export const DEFAULT_GITHUB_API_URL = "https://api.github.com";

export interface RestClientOptions {
  /** Personal access token, `GITHUB_TOKEN` of Actions, or a fine-grained token; none = anonymous. */
  token?: string;
  /** `GITHUB_API_URL`; defaults to https://api.github.com. */
  baseUrl?: string;
  /** Refuse every method other than GET and HEAD before it leaves the process. */
  readOnly?: boolean;
  /**
   * GitHub's secondary-limit pacing (one write per second, Retry-After honoured). On by default;
   * only turn it off against a local fake.
   */
  throttle?: boolean;
  /** Where rate-limit warnings go (stderr). */
  warnings?: (text: string) => void;
  userAgent?: string;
}

/**
 * Resolves `GITHUB_API_URL` (set by Actions runners, on GHES too) to the REST base URL.
 * Throws on a value that is not an http(s) URL.
 *
 * @example
 * githubApiUrl({ GITHUB_API_URL: "https://ghe.example.com/api/v3/" }); // "https://ghe.example.com/api/v3"
 */
export function githubApiUrl(env: Readonly<Record<string, string | undefined>>): string {
  const raw = env.GITHUB_API_URL?.trim();
  if (!raw) return DEFAULT_GITHUB_API_URL;
  if (!URL.canParse(raw) || !/^https?:$/.test(new URL(raw).protocol)) {
    throw new Error(`GITHUB_API_URL must be an http(s) URL such as https://ghe.example.com/api/v3, got "${raw}"`);
  }
  return raw.replace(/\/+$/, "");
}

/**
 * Creates the CLI's Octokit.
 *
 * @example
 * const octokit = createRestClient({ token: env.GITHUB_TOKEN, baseUrl: githubApiUrl(env) });
 * const replayClient = createRestClient({ baseUrl, readOnly: true }); // GETs only
 */
export function createRestClient(options: RestClientOptions = {}): CliOctokit {
  const warn = (message: string) => options.warnings?.(`octoflow: ${scrubSecrets(message)}\n`);
  const silent = () => {};
  const octokit = new CliOctokit({
    ...(options.token ? { auth: options.token } : {}),
    baseUrl: options.baseUrl ?? DEFAULT_GITHUB_API_URL,
    userAgent: options.userAgent ?? "octoflow-cli",
    // request-log reports every 4xx at error level; the caller handles (or reports) each failure itself.
    log: { debug: silent, info: silent, warn, error: silent },
    retry: { retries: 3 },
    throttle:
      options.throttle === false
        ? { enabled: false }
        : {
            onRateLimit: (retryAfter, request, _octokit, retryCount) => {
              warn(`GitHub rate limit hit on ${request.method} ${request.url}; retrying in ${retryAfter}s`);
              return retryCount < 2;
            },
            onSecondaryRateLimit: (retryAfter, request, _octokit, retryCount) => {
              warn(`GitHub secondary rate limit hit on ${request.method} ${request.url}; retrying in ${retryAfter}s`);
              return retryCount < 2;
            },
          },
  });
  if (options.readOnly) {
    octokit.hook.before("request", (request) => {
      const method = String(request.method).toUpperCase();
      if (method !== "GET" && method !== "HEAD") throw new ReadOnlyViolationError(method, String(request.url));
    });
  }
  return octokit;
}

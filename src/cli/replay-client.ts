/**
 * The GitHub client of `octoflow replay`: GET requests go to GitHub when a token is given (and are
 * refused without one); every write — POST, PATCH, PUT, DELETE — is recorded and answered locally,
 * never sent, so the app's handlers run to the end and replay can say what they would have written.
 */
import { createRestClient, type CliOctokit } from "./create-rest-client.ts";
import { NeedsTokenError } from "../errors/needs-token-error.ts";

export interface InterceptedWrite {
  method: string;
  /** The expanded path, e.g. `/repos/acme/api/issues/12/comments`. */
  path: string;
  /** The route template, e.g. `POST /repos/{owner}/{repo}/issues/{issue_number}/comments`. */
  route: string;
  body: Record<string, unknown>;
}

export interface ReplayClient {
  octokit: CliOctokit;
  writes: InterceptedWrite[];
  /** GET requests sent to GitHub. */
  reads: string[];
}

/**
 * @example
 * const { octokit, writes } = createReplayClient({ token: env.GITHUB_TOKEN, baseUrl });
 */
export function createReplayClient(options: { token?: string; baseUrl: string }): ReplayClient {
  const octokit = createRestClient({ ...(options.token ? { token: options.token } : {}), baseUrl: options.baseUrl, throttle: false });
  const writes: InterceptedWrite[] = [];
  const reads: string[] = [];
  octokit.hook.wrap("request", async (request, endpointOptions) => {
    const method = String(endpointOptions.method ?? "GET").toUpperCase();
    const template = String(endpointOptions.url);
    const route = `${method} ${template}`;
    const expanded = octokit.request.endpoint(endpointOptions as never);
    const path = new URL(expanded.url, "http://replay").pathname.replace(new URL(options.baseUrl).pathname.replace(/\/$/, ""), "");
    if (method === "GET" || method === "HEAD") {
      if (!options.token) throw new NeedsTokenError(route);
      reads.push(`${method} ${path}`);
      return request(endpointOptions);
    }
    const body = expanded.body && typeof expanded.body === "object" ? (expanded.body as Record<string, unknown>) : {};
    writes.push({ method, path, route, body });
    return { status: method === "POST" ? 201 : 200, url: expanded.url, headers: {}, data: { id: 0, number: 0, html_url: "", url: "" } } as never;
  });
  return { octokit, writes, reads };
}

/**
 * The GitHub client type used outside webhook handlers (queue workers, reporters, outputs), and the
 * factory that yields an installation-authenticated client for a run.
 */
import type { ProbotOctokit } from "probot";

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

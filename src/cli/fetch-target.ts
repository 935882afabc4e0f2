/**
 * The issue or pull request a CLI run belongs to, read from GitHub (GET requests only) and turned
 * into the same `Trigger` the app builds from a webhook.
 */
import { httpStatus } from "../github/client.ts";
import { buildTrigger, pullRequestInfo } from "../github/triggers.ts";
import type { RepoRef, Trigger } from "../workflows/types.ts";
import type { CliOctokit } from "./create-rest-client.ts";
import { TargetError } from "../errors/target-error.ts";

export interface TargetRequest {
  owner: string;
  repo: string;
  number: number;
  /** The caller asked for a pull request (`--pr`); an issue number is then refused. */
  isPullRequest: boolean;
  inputs: Record<string, string>;
  kind: Trigger["kind"];
  /** Who starts the run; when absent, the token's user (GET /user), else `fallbackActor`. */
  actor?: string;
  fallbackActor?: string;
}

function explain(error: unknown, what: string): never {
  const status = httpStatus(error);
  if (status === 401) throw new TargetError("GitHub rejected the token (401 Bad credentials); check GITHUB_TOKEN / GH_TOKEN");
  if (status === 404) throw new TargetError(`${what} was not found, or the token cannot read it`);
  if (status === 403) throw new TargetError(`the token may not read ${what} (403)`);
  throw error;
}

async function actorOf(octokit: CliOctokit, request: TargetRequest): Promise<string> {
  if (request.actor) return request.actor;
  try {
    return (await octokit.rest.users.getAuthenticated()).data.login;
  } catch (error) {
    // Installation tokens (Actions' GITHUB_TOKEN) may not read /user.
    const status = httpStatus(error);
    if (status === 403 || status === 404) return request.fallbackActor ?? "octoflow-cli";
    return explain(error, "the token's user");
  }
}

/**
 * Reads the repository, the issue or pull request and the token's user; returns the trigger.
 *
 * @example
 * const trigger = await fetchTarget(octokit, { owner: "acme", repo: "api", number: 12, isPullRequest: false, inputs: {}, kind: "cli" });
 */
export async function fetchTarget(octokit: CliOctokit, request: TargetRequest): Promise<Trigger> {
  const { owner, repo, number } = request;
  const full = `${owner}/${repo}`;
  const repository = await octokit.rest.repos.get({ owner, repo }).catch((error: unknown) => explain(error, `the repository ${full}`));
  const repoRef: RepoRef = { owner: repository.data.owner.login, name: repository.data.name, defaultBranch: repository.data.default_branch };
  const issue = await octokit.rest.issues.get({ owner, repo, issue_number: number }).catch((error: unknown) => explain(error, `${full}#${number}`));
  const isPullRequest = Boolean(issue.data.pull_request);
  if (request.isPullRequest && !isPullRequest) throw new TargetError(`${full}#${number} is an issue, not a pull request (use --issue ${number})`);
  const pull = isPullRequest
    ? (await octokit.rest.pulls.get({ owner, repo, pull_number: number }).catch((error: unknown) => explain(error, `pull request ${full}#${number}`))).data
    : undefined;
  const actor = await actorOf(octokit, request);
  return buildTrigger({
    kind: request.kind,
    repo: repoRef,
    number,
    isPullRequest,
    actor,
    inputs: request.inputs,
    issue: { title: issue.data.title, body: issue.data.body ?? "", url: issue.data.html_url },
    ...(pull ? { pullRequest: pullRequestInfo(pull) } : {}),
  });
}

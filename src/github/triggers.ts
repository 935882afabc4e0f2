/**
 * Webhook payloads → `Trigger`s. Only the fields Octoflow needs are read, through small structural
 * types, so every payload shape GitHub sends (and the examples in @octokit/webhooks-examples) fits.
 */
import type { RepoRef, Trigger } from "../workflows/types.ts";

export interface RepositoryPayload {
  name: string;
  owner: { login: string };
  default_branch?: string;
  full_name?: string;
}

export interface PullRequestPayload {
  number: number;
  title: string;
  body?: string | null;
  draft?: boolean;
  html_url?: string;
  head: { sha: string; ref: string; repo?: { full_name?: string } | null };
  base: { sha: string; ref: string; repo?: { full_name?: string } | null };
  additions?: number;
  deletions?: number;
  changed_files?: number;
}

/** The repository a payload belongs to, with its default branch and the installation. */
export function repoRefOf(repository: RepositoryPayload, installation?: { id: number } | null): RepoRef {
  return {
    owner: repository.owner.login,
    name: repository.name,
    defaultBranch: repository.default_branch ?? "main",
    ...(installation?.id === undefined ? {} : { installationId: installation.id }),
  };
}

/** True when the pull request's head lives in another repository (a fork). */
export function isFork(pull: PullRequestPayload): boolean {
  // A deleted fork shows as `head.repo: null`.
  if (pull.head.repo === null) return true;
  const head = pull.head.repo?.full_name;
  const base = pull.base.repo?.full_name;
  if (!head || !base) return false;
  return head.toLowerCase() !== base.toLowerCase();
}

/** The `pullRequest` part of a trigger. */
export function pullRequestInfo(pull: PullRequestPayload, sinceSha?: string): NonNullable<Trigger["pullRequest"]> {
  return {
    headSha: pull.head.sha,
    baseSha: pull.base.sha,
    headRef: pull.head.ref,
    baseRef: pull.base.ref,
    fromFork: isFork(pull),
    draft: pull.draft ?? false,
    ...(sinceSha === undefined ? {} : { sinceSha }),
  };
}

/**
 * @example
 * const trigger = buildTrigger({ kind: "label", repo, number: 7, isPullRequest: false, actor: "alice",
 *   deliveryId: context.id, issue: { title, body } });
 */
export function buildTrigger(fields: {
  kind: Trigger["kind"];
  repo: RepoRef;
  number: number;
  isPullRequest: boolean;
  actor: string;
  deliveryId?: string;
  inputs?: Record<string, string>;
  issue?: { title: string; body?: string | null; url?: string };
  pullRequest?: Trigger["pullRequest"];
  commentId?: number;
}): Trigger {
  return {
    kind: fields.kind,
    repo: fields.repo,
    number: fields.number,
    isPullRequest: fields.isPullRequest,
    actor: fields.actor,
    ...(fields.deliveryId === undefined ? {} : { deliveryId: fields.deliveryId }),
    inputs: fields.inputs ?? {},
    ...(fields.issue
      ? { issue: { title: fields.issue.title, body: fields.issue.body ?? "", ...(fields.issue.url === undefined ? {} : { url: fields.issue.url }) } }
      : {}),
    ...(fields.pullRequest === undefined ? {} : { pullRequest: fields.pullRequest }),
    ...(fields.commentId === undefined ? {} : { commentId: fields.commentId }),
  };
}

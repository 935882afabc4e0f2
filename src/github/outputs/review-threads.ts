/**
 * The review threads of Octoflow's inline findings on a pull request, read and closed over GitHub's
 * GraphQL API (`reviewThreads`, `resolveReviewThread`: REST can neither tell nor change whether a
 * thread is resolved). Where GraphQL is unavailable — an error, a 404, an installation not permitted,
 * a client that only speaks REST — the REST API stands in: the findings' comments come from
 * `pulls.listReviewComments` (resolution unknown), and a fixed finding gets a reply instead.
 */
import { httpStatus } from "../client.ts";
import type { OutputDeps } from "./pull-request-output.ts";

/** One thread whose first comment is an Octoflow finding (it carries `<!-- octoflow:fp:<fp> -->`). */
export interface FindingThread {
  fingerprint: string;
  /** REST id of the thread's first comment (the finding itself). */
  commentId: number;
  /** GraphQL node id of the thread (read over GraphQL only). */
  threadId?: string;
  /** Whether the thread is resolved (known over GraphQL only). */
  isResolved?: boolean;
  /** Login of the person who resolved it; GitHub gives none when an app resolved it. */
  resolvedBy?: string;
}

export interface FindingThreads {
  via: "graphql" | "rest";
  threads: FindingThread[];
}

/** At most this many pages of 100 threads / comments are read per pull request. */
const MAX_PAGES = 10;
const FINGERPRINT = /<!-- octoflow:fp:([0-9a-f]{16}) -->/;

export const REVIEW_THREADS_QUERY = `query ($owner: String!, $repo: String!, $pull: Int!, $after: String) {
  repository(owner: $owner, name: $repo) {
    pullRequest(number: $pull) {
      reviewThreads(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes {
          id
          isResolved
          resolvedBy { login }
          comments(first: 1) { nodes { body databaseId } }
        }
      }
    }
  }
}`;

export const RESOLVE_THREAD_MUTATION = `mutation ($threadId: ID!) {
  resolveReviewThread(input: { threadId: $threadId }) { thread { id isResolved } }
}`;

interface ThreadsPage {
  repository?: {
    pullRequest?: {
      reviewThreads?: {
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
        nodes: ({ id: string; isResolved: boolean; resolvedBy: { login: string } | null; comments: { nodes: ({ body: string; databaseId: number | null } | null)[] | null } } | null)[] | null;
      } | null;
    } | null;
  } | null;
}

/** A GraphQL answer that is not what the query asks for (e.g. a client that intercepts requests). */
class UnexpectedGraphqlAnswer extends Error {
  override name = "UnexpectedGraphqlAnswer";
}

async function threadsOverGraphql(deps: OutputDeps, owner: string, repo: string, pull: number): Promise<FindingThread[]> {
  const threads: FindingThread[] = [];
  let after: string | null = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const data: ThreadsPage = await deps.octokit.graphql<ThreadsPage>(REVIEW_THREADS_QUERY, { owner, repo, pull, after });
    const connection = data?.repository?.pullRequest?.reviewThreads;
    if (!connection) throw new UnexpectedGraphqlAnswer("the reviewThreads query answered without the pull request's threads");
    for (const node of connection.nodes ?? []) {
      const first = node?.comments.nodes?.[0];
      const fp = first ? FINGERPRINT.exec(first.body)?.[1] : undefined;
      if (!node || !first || !fp || typeof first.databaseId !== "number") continue;
      threads.push({
        fingerprint: fp,
        commentId: first.databaseId,
        threadId: node.id,
        isResolved: node.isResolved,
        ...(node.resolvedBy ? { resolvedBy: node.resolvedBy.login } : {}),
      });
    }
    if (!connection.pageInfo.hasNextPage || !connection.pageInfo.endCursor) break;
    after = connection.pageInfo.endCursor;
  }
  return threads;
}

async function threadsOverRest(deps: OutputDeps, owner: string, repo: string, pull: number): Promise<FindingThread[]> {
  const threads: FindingThread[] = [];
  let pages = 0;
  for await (const response of deps.octokit.paginate.iterator(deps.octokit.rest.pulls.listReviewComments, { owner, repo, pull_number: pull, per_page: 100 })) {
    for (const comment of response.data) {
      const fp = FINGERPRINT.exec(comment.body)?.[1];
      if (fp && comment.in_reply_to_id === undefined) threads.push({ fingerprint: fp, commentId: comment.id });
    }
    if (++pages >= MAX_PAGES) break;
  }
  return threads;
}

/**
 * The pull request's finding threads, over GraphQL when it answers, else over REST.
 *
 * @example
 * const { via, threads } = await findingThreads(deps, "octo", "app", 12);
 */
export async function findingThreads(deps: OutputDeps, owner: string, repo: string, pull: number): Promise<FindingThreads> {
  try {
    return { via: "graphql", threads: await threadsOverGraphql(deps, owner, repo, pull) };
  } catch (error) {
    deps.log.info({ err: error }, "review threads unavailable over GraphQL; reading the findings' comments over REST");
    return { via: "rest", threads: await threadsOverRest(deps, owner, repo, pull) };
  }
}

/**
 * Closes the thread of a finding a push fixed: resolves it over GraphQL, or, where that is
 * unavailable, answers in it "Fixed in <sha>." (REST). Throws only when the reply fails too.
 */
export async function closeFixedThread(deps: OutputDeps, thread: FindingThread, where: { owner: string; repo: string; pull: number; sha: string }): Promise<"resolved" | "replied"> {
  if (thread.threadId !== undefined) {
    try {
      const data = await deps.octokit.graphql<{ resolveReviewThread?: { thread?: { isResolved?: boolean } | null } | null }>(RESOLVE_THREAD_MUTATION, { threadId: thread.threadId });
      if (data?.resolveReviewThread?.thread?.isResolved === true) return "resolved";
      throw new UnexpectedGraphqlAnswer("resolveReviewThread did not resolve the thread");
    } catch (error) {
      deps.log.info({ err: error, fingerprint: thread.fingerprint }, "resolving a review thread failed; replying in it instead");
    }
  }
  await deps.octokit.rest.pulls.createReplyForReviewComment({ owner: where.owner, repo: where.repo, pull_number: where.pull, comment_id: thread.commentId, body: `Fixed in ${where.sha}.` });
  return "replied";
}

/** Whether a person (not an app) reacted 👎 to a finding's comment; a deleted comment has none. */
export async function hasThumbsDown(deps: OutputDeps, owner: string, repo: string, commentId: number): Promise<boolean> {
  try {
    const { data } = await deps.octokit.rest.reactions.listForPullRequestReviewComment({ owner, repo, comment_id: commentId, content: "-1", per_page: 100 });
    return data.some((reaction) => reaction.content === "-1" && reaction.user !== null && reaction.user.type !== "Bot");
  } catch (error) {
    if (httpStatus(error) === 404) return false;
    throw error;
  }
}

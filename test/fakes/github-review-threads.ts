/**
 * Review comments and their threads on the pull requests of a fake repository (part of
 * `installRepoModel`), served as GitHub serves them:
 * - REST: `GET /pulls/{n}/comments`, `POST /pulls/{n}/comments/{id}/replies`,
 *   `GET|POST /pulls/comments/{id}/reactions` (with the `content` filter);
 * - GraphQL (`POST /graphql`, validated and executed against GitHub's schema, `github-graphql.ts`):
 *   `repository(owner, name) { pullRequest(number) { reviewThreads(first, after) { … } } }` and the
 *   `resolveReviewThread(input: { threadId })` mutation. Root fields listed in `state.forbidden`
 *   answer like an installation without the permission (`FORBIDDEN`, "Resource not accessible by
 *   integration").
 * Every inline comment of a posted review opens a thread; replies join it. Tests act as people with
 * `comment()`, `resolve()` and `react()`, and assert on `state`; `commentPayload()` is the webhook
 * `comment` of a `pull_request_review_comment` event.
 */
import { GRAPHQL_PATH, GitHubGraphqlError, executeGraphql } from "./github-graphql.ts";
import type { GitHubFake, RecordedRequest } from "./github-server.ts";

export interface ModelReviewComment {
  id: number;
  pullNumber: number;
  reviewId: number | null;
  commitId: string;
  path: string;
  line: number | null;
  side: "LEFT" | "RIGHT";
  startLine: number | null;
  body: string;
  user: string;
  inReplyTo?: number;
  /** The diff hunk the comment sits on (GitHub's `diff_hunk`). */
  diffHunk?: string;
}

export interface ModelReviewThread {
  /** GraphQL node id (`PRRT_…`). */
  id: string;
  pullNumber: number;
  /** Comment ids, the first one opening the thread. */
  commentIds: number[];
  isResolved: boolean;
  /** Login of the person who resolved it (none when an app did: GraphQL's `resolvedBy` is a `User`). */
  resolvedBy?: string;
}

export interface ReviewThreadsState {
  comments: Map<number, ModelReviewComment>;
  threads: ModelReviewThread[];
  reactions: { commentId: number; content: string; user: string }[];
  /** GraphQL root fields (`repository`, `resolveReviewThread`) answered FORBIDDEN. */
  forbidden: Set<string>;
}

export interface ReviewThreadsModel {
  state: ReviewThreadsState;
  /** Records a review's inline comments (as `POST /pulls/{n}/reviews` does), each opening a thread. */
  addReviewComments(pullNumber: number, reviewId: number, commitId: string, comments: Record<string, unknown>[]): void;
  /** The thread whose first comment contains `text` (e.g. a fingerprint marker). */
  threadOf(text: string): ModelReviewThread | undefined;
  /** Replies in the thread of a comment, in order. */
  repliesTo(commentId: number): ModelReviewComment[];
  /** A person resolves a thread. */
  resolve(threadId: string, login: string): void;
  /** A person reacts to a review comment (`+1`, `-1`, …). */
  react(commentId: number, content: string, login: string): void;
  /** A person writes a review comment on a line (opening a thread) or, with `inReplyTo`, replies in one. */
  comment(c: { pullNumber: number; user: string; body: string; path: string; line: number; diffHunk?: string; inReplyTo?: number }): ModelReviewComment;
  /** A comment as GitHub serves it (REST and the `comment` of `pull_request_review_comment` webhooks). */
  commentPayload(c: ModelReviewComment): Record<string, unknown>;
}

type UserJson = (login: string, id?: number) => Record<string, unknown>;

const CONNECTION_MAX = 100;

/**
 * @example
 * const threads = installReviewThreads(fake, { owner: "octo", repo: "app", newId: () => n++, user });
 */
export function installReviewThreads(fake: GitHubFake, options: { owner: string; repo: string; newId: () => number; user: UserJson }): ReviewThreadsModel {
  const { owner, repo, newId, user } = options;
  const base = `/repos/${owner}/${repo}`;
  const htmlBase = `https://github.com/${owner}/${repo}`;
  const state: ReviewThreadsState = { comments: new Map(), threads: [], reactions: [], forbidden: new Set() };
  const body = (req: RecordedRequest) => (req.body ?? {}) as Record<string, unknown>;
  const threadOfComment = (id: number) => state.threads.find((t) => t.commentIds.includes(id));

  const commentJson = (c: ModelReviewComment) => ({
    id: c.id,
    node_id: `PRRC_${c.id}`,
    url: `https://api.github.com${base}/pulls/comments/${c.id}`,
    pull_request_review_id: c.reviewId,
    diff_hunk: c.diffHunk ?? "@@ -1 +1 @@",
    path: c.path,
    commit_id: c.commitId,
    original_commit_id: c.commitId,
    ...(c.inReplyTo === undefined ? {} : { in_reply_to_id: c.inReplyTo }),
    user: user(c.user, c.user.endsWith("[bot]") ? 99 : 2),
    body: c.body,
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    html_url: `${htmlBase}/pull/${c.pullNumber}#discussion_r${c.id}`,
    pull_request_url: `https://api.github.com${base}/pulls/${c.pullNumber}`,
    author_association: "NONE",
    _links: { self: { href: "https://api.github.com/c" }, html: { href: "https://github.com/c" }, pull_request: { href: "https://api.github.com/p" } },
    start_line: c.startLine,
    original_start_line: c.startLine,
    start_side: c.startLine === null ? null : c.side,
    line: c.line,
    original_line: c.line,
    side: c.side,
    subject_type: "line",
  });
  const reactionJson = (r: { content: string; user: string }, id: number) => ({ id, node_id: `REA_${id}`, user: user(r.user, r.user.endsWith("[bot]") ? 99 : 3), content: r.content, created_at: "2026-01-01T00:00:00Z" });

  fake.allow("GET", `${base}/pulls/{pull_number}/comments`, (req, { pull_number = "" }) => {
    const page = Number(req.query.get("page") ?? "1");
    const perPage = Number(req.query.get("per_page") ?? "30");
    const list = [...state.comments.values()].filter((c) => c.pullNumber === Number(pull_number));
    return { body: list.slice((page - 1) * perPage, page * perPage).map(commentJson) };
  });
  fake.allow("POST", `${base}/pulls/{pull_number}/comments/{comment_id}/replies`, (req, { pull_number = "", comment_id = "" }) => {
    const parent = state.comments.get(Number(comment_id));
    const thread = threadOfComment(Number(comment_id));
    if (!parent || !thread || parent.pullNumber !== Number(pull_number)) return { status: 404, body: { message: "Not Found" } };
    const reply: ModelReviewComment = { ...parent, id: newId(), reviewId: null, body: String(body(req).body), user: "octoflow[bot]", inReplyTo: thread.commentIds[0] ?? parent.id };
    state.comments.set(reply.id, reply);
    thread.commentIds.push(reply.id);
    return { status: 201, body: commentJson(reply) };
  });
  fake.allow("GET", `${base}/pulls/comments/{comment_id}/reactions`, (req, { comment_id = "" }) => {
    if (!state.comments.has(Number(comment_id))) return { status: 404, body: { message: "Not Found" } };
    const content = req.query.get("content");
    const list = state.reactions.map((r, i) => ({ r, i })).filter(({ r }) => r.commentId === Number(comment_id) && (content === null || r.content === content));
    return { body: list.map(({ r, i }) => reactionJson(r, i + 1)) };
  });
  fake.allow("POST", `${base}/pulls/comments/{comment_id}/reactions`, (req, { comment_id = "" }) => {
    if (!state.comments.has(Number(comment_id))) return { status: 404, body: { message: "Not Found" } };
    const reaction = { commentId: Number(comment_id), content: String(body(req).content), user: "octoflow[bot]" };
    state.reactions.push(reaction);
    return { status: 201, body: reactionJson(reaction, state.reactions.length) };
  });

  const threadNode = (t: ModelReviewThread) => {
    const first = state.comments.get(t.commentIds[0] ?? -1);
    return {
      id: t.id,
      isResolved: t.isResolved,
      isOutdated: false,
      isCollapsed: t.isResolved,
      path: first?.path ?? "",
      line: first?.line ?? null,
      startLine: first?.startLine ?? null,
      diffSide: first?.side ?? "RIGHT",
      resolvedBy: t.resolvedBy === undefined ? null : { login: t.resolvedBy },
      viewerCanResolve: !t.isResolved,
      comments: ({ first: count = CONNECTION_MAX }: { first?: number }) => {
        const nodes = t.commentIds.slice(0, Math.min(count, CONNECTION_MAX)).flatMap((id) => {
          const c = state.comments.get(id);
          return c ? [{ id: `PRRC_${c.id}`, databaseId: c.id, body: c.body, path: c.path }] : [];
        });
        return { totalCount: t.commentIds.length, nodes, pageInfo: { hasNextPage: t.commentIds.length > nodes.length, hasPreviousPage: false, endCursor: null, startCursor: null } };
      },
    };
  };
  const forbid = (field: string) => {
    if (state.forbidden.has(field)) throw new GitHubGraphqlError("FORBIDDEN", "Resource not accessible by integration");
  };
  const root = {
    repository: ({ owner: o, name }: { owner: string; name: string }) => {
      forbid("repository");
      if (o !== owner || name !== repo) throw new GitHubGraphqlError("NOT_FOUND", `Could not resolve to a Repository with the name '${o}/${name}'.`);
      return {
        pullRequest: ({ number }: { number: number }) => ({
          number,
          reviewThreads: ({ first = CONNECTION_MAX, after }: { first?: number; after?: string | null }) => {
            if (first > CONNECTION_MAX) throw new GitHubGraphqlError("MAX_NODE_LIMIT_EXCEEDED", "Requesting more than 100 records on the connection is not allowed.");
            const all = state.threads.filter((t) => t.pullNumber === number);
            const start = after ? Number(Buffer.from(after, "base64").toString("utf8").replace(/^cursor:/, "")) : 0;
            const slice = all.slice(start, start + first);
            const end = start + slice.length;
            return {
              totalCount: all.length,
              nodes: slice.map(threadNode),
              pageInfo: { hasNextPage: end < all.length, hasPreviousPage: start > 0, startCursor: null, endCursor: slice.length ? Buffer.from(`cursor:${end}`).toString("base64") : null },
            };
          },
        }),
      };
    },
    resolveReviewThread: ({ input }: { input: { threadId: string } }) => {
      forbid("resolveReviewThread");
      const thread = state.threads.find((t) => t.id === input.threadId);
      if (!thread) throw new GitHubGraphqlError("NOT_FOUND", `Could not resolve to a node with the global id of '${input.threadId}'`);
      thread.isResolved = true;
      delete thread.resolvedBy; // the app is a Bot, not a User
      return { thread: threadNode(thread) };
    },
  };
  fake.allow("POST", GRAPHQL_PATH, async (req) => ({ body: await executeGraphql(req.body, root) }));

  return {
    state,
    addReviewComments(pullNumber, reviewId, commitId, comments) {
      for (const c of comments) {
        const comment: ModelReviewComment = {
          id: newId(),
          pullNumber,
          reviewId,
          commitId,
          path: String(c.path),
          line: typeof c.line === "number" ? c.line : null,
          side: c.side === "LEFT" ? "LEFT" : "RIGHT",
          startLine: typeof c.start_line === "number" ? c.start_line : null,
          body: String(c.body),
          user: "octoflow[bot]",
        };
        state.comments.set(comment.id, comment);
        state.threads.push({ id: `PRRT_${comment.id}`, pullNumber, commentIds: [comment.id], isResolved: false });
      }
    },
    threadOf(text) {
      return state.threads.find((t) => state.comments.get(t.commentIds[0] ?? -1)?.body.includes(text));
    },
    repliesTo(commentId) {
      return [...state.comments.values()].filter((c) => c.inReplyTo === commentId);
    },
    resolve(threadId, login) {
      const thread = state.threads.find((t) => t.id === threadId);
      if (!thread) throw new Error(`no thread ${threadId}`);
      thread.isResolved = true;
      thread.resolvedBy = login;
    },
    react(commentId, content, login) {
      state.reactions.push({ commentId, content, user: login });
    },
    comment(c) {
      const thread = c.inReplyTo === undefined ? undefined : threadOfComment(c.inReplyTo);
      if (c.inReplyTo !== undefined && !thread) throw new Error(`no thread holds comment ${c.inReplyTo}`);
      const comment: ModelReviewComment = {
        id: newId(),
        pullNumber: c.pullNumber,
        reviewId: null,
        commitId: "0".repeat(40),
        path: c.path,
        line: c.line,
        side: "RIGHT",
        startLine: null,
        body: c.body,
        user: c.user,
        ...(thread ? { inReplyTo: thread.commentIds[0] ?? c.inReplyTo } : {}),
        ...(c.diffHunk === undefined ? {} : { diffHunk: c.diffHunk }),
      };
      state.comments.set(comment.id, comment);
      if (thread) thread.commentIds.push(comment.id);
      else state.threads.push({ id: `PRRT_${comment.id}`, pullNumber: c.pullNumber, commentIds: [comment.id], isResolved: false });
      return comment;
    },
    commentPayload: commentJson,
  };
}

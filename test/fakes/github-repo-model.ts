/**
 * A small stateful model of one GitHub repository, installed as `allow` routes on a {@link GitHubFake}:
 * installation tokens, collaborator permissions, contents, the Git Data API (blobs, trees, commits,
 * refs, trees with inline `content`), repository archives (`tarball/{ref}` redirecting to a download
 * host that serves a real gzip tar with GitHub's `owner-repo-sha/` top folder), pull requests (+ files),
 * issue comments, reactions, check runs (Octoflow's, as the App `appId`) and reviews, the repository's
 * CI (`model.ci`: other apps' check runs and suites, statuses, annotations, job logs); review comments and threads (REST and GraphQL)
 * in `github-review-threads.ts`; compare with real patches.
 * Tests assert on `model.state` (the final state) and on `fake.requests` (the bodies sent).
 */
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";
import { appJson, installCiModel, type CiApp, type CiModel } from "./github-ci-model.ts";
import { DOWNLOAD_PREFIX, type GitHubFake, type RecordedRequest } from "./github-server.ts";
import { installReviewThreads, type ReviewThreadsModel } from "./github-review-threads.ts";
import { fileDiff, unifiedFileDiff } from "./unified-diff.ts";

export interface PullFile {
  filename: string;
  status: "added" | "modified" | "removed" | "renamed";
  additions: number;
  deletions: number;
  patch?: string;
}

export interface ModelPull {
  number: number;
  title: string;
  body: string;
  draft: boolean;
  state: "open" | "closed";
  head: { ref: string; sha: string; repoFullName: string };
  base: { ref: string; sha: string };
  files: PullFile[];
  user: string;
}

export interface RepoModelState {
  refs: Map<string, string>;
  blobs: Map<string, string>;
  trees: Map<string, Map<string, string>>;
  commits: Map<string, { tree: string; parents: string[]; message: string }>;
  pulls: ModelPull[];
  comments: Map<number, { id: number; issueNumber: number; body: string; user: string }>;
  reactions: { commentId: number; content: string }[];
  checkRuns: Map<number, Record<string, unknown>>;
  reviews: { pullNumber: number; body: string; event: string; commitId?: string; comments: Record<string, unknown>[] }[];
  permissions: Map<string, string>;
  /** Status of `GET /tarball/{ref}`: 302 to the download host (default), or e.g. 404 / 500. */
  archiveStatus: number;
}

export interface RepoModel {
  owner: string;
  repo: string;
  defaultBranch: string;
  state: RepoModelState;
  /** Review comments, their threads (GraphQL), replies and reactions. */
  reviewThreads: ReviewThreadsModel;
  /** Files of a commit's tree (path → content). */
  filesAt(ref: string): Map<string, string>;
  /** Adds a pull request (e.g. the one a `pull_request.opened` payload describes). */
  addPull(pull: Omit<ModelPull, "state" | "user"> & { state?: "open" | "closed"; user?: string }): ModelPull;
  /** Commits files on top of a branch (creating it from the default branch when missing). */
  commitFiles(branch: string, files: Record<string, string>, message?: string): string;
  /** The repository's CI: check runs of other apps, statuses, annotations, job logs. */
  ci: CiModel;
}

const sha = (text: string) => createHash("sha1").update(text).digest("hex");

const user = (login: string, id = 1) => ({
  login,
  id,
  node_id: "U_1",
  avatar_url: "https://avatars.example/u",
  type: login.endsWith("[bot]") ? "Bot" : "User",
  site_admin: false,
  url: `https://api.github.com/users/${login}`,
  html_url: `https://github.com/${login}`,
});

/**
 * Installs the model's routes.
 *
 * @example
 * const model = installRepoModel(gh, { owner: "octo", repo: "app", files: { "README.md": "hi" }, permissions: { alice: "write" } });
 */
export function installRepoModel(
  fake: GitHubFake,
  options: {
    owner: string;
    repo: string;
    defaultBranch?: string;
    files?: Record<string, string>;
    permissions?: Record<string, string>;
    installationId?: number;
    /** Issues by number (title, body) for `GET /issues/{n}`. */
    issues?: Record<number, { title: string; body: string }>;
    /** The App whose check runs `POST /check-runs` creates (default id 123, as the test harness's Probot). */
    appId?: number;
  },
): RepoModel {
  const { owner, repo } = options;
  const defaultBranch = options.defaultBranch ?? "main";
  const base = `/repos/${owner}/${repo}`;
  const state: RepoModelState = {
    refs: new Map(),
    blobs: new Map(),
    trees: new Map(),
    commits: new Map(),
    pulls: [],
    comments: new Map(),
    reactions: [],
    checkRuns: new Map(),
    reviews: [],
    permissions: new Map(Object.entries(options.permissions ?? {})),
    archiveStatus: 302,
  };
  let nextId = 1000;
  const htmlBase = `https://github.com/${owner}/${repo}`;

  const putTree = (entries: Map<string, string>) => {
    const treeSha = sha(`tree:${JSON.stringify([...entries].sort())}`);
    state.trees.set(treeSha, entries);
    return treeSha;
  };
  const putBlob = (content: string) => {
    const blobSha = sha(`blob:${content}`);
    state.blobs.set(blobSha, content);
    return blobSha;
  };
  const putCommit = (tree: string, parents: string[], message: string) => {
    const commitSha = sha(`commit:${tree}:${parents.join(",")}:${message}:${nextId++}`);
    state.commits.set(commitSha, { tree, parents, message });
    return commitSha;
  };
  const initialTree = putTree(new Map(Object.entries(options.files ?? {}).map(([p, c]) => [p, putBlob(c)])));
  state.refs.set(`heads/${defaultBranch}`, putCommit(initialTree, [], "initial"));

  const resolve = (ref: string): string | undefined => {
    if (state.commits.has(ref)) return ref;
    return state.refs.get(`heads/${ref}`) ?? state.refs.get(ref.replace(/^refs\//, ""));
  };
  const filesAt = (ref: string) => {
    const commitSha = resolve(ref);
    const commit = commitSha ? state.commits.get(commitSha) : undefined;
    const tree = commit ? state.trees.get(commit.tree) : undefined;
    return new Map([...(tree ?? new Map<string, string>())].map(([p, b]) => [p, state.blobs.get(b) ?? ""]));
  };
  const commitJson = (commitSha: string) => {
    const c = state.commits.get(commitSha);
    return {
      sha: commitSha,
      node_id: "C_1",
      url: `https://api.github.com${base}/git/commits/${commitSha}`,
      html_url: `${htmlBase}/commit/${commitSha}`,
      author: { name: "octoflow", email: "bot@example.com", date: "2026-01-01T00:00:00Z" },
      committer: { name: "octoflow", email: "bot@example.com", date: "2026-01-01T00:00:00Z" },
      message: c?.message ?? "",
      tree: { sha: c?.tree ?? "", url: "https://api.github.com/t" },
      parents: (c?.parents ?? []).map((p) => ({ sha: p, url: "https://api.github.com/c", html_url: "https://github.com/c" })),
      verification: { verified: false, reason: "unsigned", signature: null, payload: null, verified_at: null },
    };
  };
  const refJson = (name: string) => ({
    ref: `refs/${name}`,
    node_id: "R_1",
    url: `https://api.github.com${base}/git/refs/${name}`,
    object: { type: "commit", sha: state.refs.get(name) ?? "", url: "https://api.github.com/c" },
  });
  const pullJson = (p: ModelPull) => ({
    id: p.number + 5000,
    number: p.number,
    state: p.state,
    title: p.title,
    body: p.body,
    draft: p.draft,
    html_url: `${htmlBase}/pull/${p.number}`,
    url: `https://api.github.com${base}/pulls/${p.number}`,
    // A same-repository pull request's head follows its branch, as on GitHub; a fork's is what the test set.
    head: { ref: p.head.ref, sha: (p.head.repoFullName === `${owner}/${repo}` ? state.refs.get(`heads/${p.head.ref}`) : undefined) ?? p.head.sha, label: `${owner}:${p.head.ref}`, repo: { full_name: p.head.repoFullName } },
    base: { ref: p.base.ref, sha: p.base.sha, label: `${owner}:${p.base.ref}`, repo: { full_name: `${owner}/${repo}` } },
    user: user(p.user),
  });
  const commentJson = (c: { id: number; issueNumber: number; body: string; user: string }) => ({
    id: c.id,
    node_id: "IC_1",
    body: c.body,
    html_url: `${htmlBase}/issues/${c.issueNumber}#issuecomment-${c.id}`,
    issue_url: `https://api.github.com${base}/issues/${c.issueNumber}`,
    url: `https://api.github.com${base}/issues/comments/${c.id}`,
    user: user(c.user, 99),
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    author_association: "NONE",
  });
  const body = (req: RecordedRequest) => (req.body ?? {}) as Record<string, unknown>;

  const reviewThreads = installReviewThreads(fake, { owner, repo, newId: () => nextId++, user });

  fake.allow("POST", "/app/installations/{installation_id}/access_tokens", () => ({
    status: 201,
    body: { token: "ghs_faketoken0000000000000000000000000000", expires_at: "2099-01-01T00:00:00Z", permissions: {}, repository_selection: "all" },
  }));
  fake.allow("GET", `${base}/collaborators/{username}/permission`, (_req, { username = "" }) => {
    const role = state.permissions.get(username) ?? "read";
    const permission = role === "maintain" ? "write" : role === "triage" ? "read" : role;
    return { body: { permission, role_name: role, user: user(username) } };
  });
  fake.allow("GET", `${base}/contents/{path}`, (req, { path = "" }) => {
    const ref = req.query.get("ref") ?? defaultBranch;
    const files = filesAt(ref);
    const content = files.get(path);
    if (content !== undefined) {
      if (String(req.headers.accept).includes("raw")) return { body: content };
      return { body: { type: "file", path, name: path.split("/").pop(), sha: sha(`blob:${content}`), size: content.length, encoding: "base64", content: Buffer.from(content).toString("base64") } };
    }
    const prefix = `${path}/`;
    const children = [...files.keys()].filter((p) => p.startsWith(prefix) && !p.slice(prefix.length).includes("/"));
    if (children.length === 0) return { status: 404, body: { message: "Not Found" } };
    return { body: children.map((p) => ({ type: "file", path: p, name: p.slice(prefix.length), sha: sha(`blob:${files.get(p) ?? ""}`), size: (files.get(p) ?? "").length })) };
  });
  fake.allow("GET", `${base}/tarball/{ref}`, (_req, { ref = "" }) => {
    const commitSha = resolve(ref);
    if (!commitSha) return { status: 404, body: { message: "Not Found" } };
    if (state.archiveStatus !== 302) return { status: state.archiveStatus, body: { message: state.archiveStatus === 404 ? "Not Found" : "Server Error" } };
    return { status: 302, headers: { location: `${fake.url}${DOWNLOAD_PREFIX}${owner}/${repo}/legacy.tar.gz/${commitSha}` }, body: "" };
  });
  fake.allow("GET", `${DOWNLOAD_PREFIX}${owner}/${repo}/legacy.tar.gz/{sha}`, async (_req, { sha: commitSha = "" }) => {
    if (!state.commits.has(commitSha)) return { status: 404, body: "Not Found" };
    return { body: await tarball(`${owner}-${repo}-${commitSha.slice(0, 7)}`, commitSha, filesAt(commitSha)), headers: { "content-type": "application/x-gzip" } };
  });
  fake.allow("GET", `${base}/git/ref/{ref}`, (_req, { ref = "" }) =>
    state.refs.has(ref) ? { body: refJson(ref) } : { status: 404, body: { message: "Not Found" } },
  );
  fake.allow("GET", `${base}/git/commits/{commit_sha}`, (_req, { commit_sha = "" }) =>
    state.commits.has(commit_sha) ? { body: commitJson(commit_sha) } : { status: 404, body: { message: "Not Found" } },
  );
  fake.allow("GET", `${base}/git/trees/{tree_sha}`, (req, { tree_sha = "" }) => {
    const commitSha = resolve(tree_sha);
    const treeSha = commitSha ? state.commits.get(commitSha)?.tree : tree_sha;
    const tree = treeSha ? state.trees.get(treeSha) : undefined;
    if (!tree) return { status: 404, body: { message: "Not Found" } };
    void req;
    return { body: { sha: treeSha, url: "https://api.github.com/t", truncated: false, tree: [...tree].map(([path, b]) => ({ path, mode: "100644", type: "blob", sha: b })) } };
  });
  fake.allow("POST", `${base}/git/blobs`, (req) => {
    const b = body(req);
    const content = b.encoding === "base64" ? Buffer.from(String(b.content), "base64").toString("utf8") : String(b.content);
    return { status: 201, body: { sha: putBlob(content), url: "https://api.github.com/b" } };
  });
  fake.allow("POST", `${base}/git/trees`, (req) => {
    const b = body(req) as { base_tree?: string; tree: { path: string; sha?: string | null; content?: string }[] };
    const entries = new Map(b.base_tree ? (state.trees.get(b.base_tree) ?? []) : []);
    for (const entry of b.tree) {
      if (entry.sha === null) entries.delete(entry.path);
      else if (entry.content !== undefined) entries.set(entry.path, putBlob(entry.content));
      else if (entry.sha) entries.set(entry.path, entry.sha);
    }
    const treeSha = putTree(entries);
    return { status: 201, body: { sha: treeSha, url: "https://api.github.com/t", truncated: false, tree: [] } };
  });
  fake.allow("POST", `${base}/git/commits`, (req) => {
    const b = body(req) as { tree: string; parents: string[]; message: string };
    return { status: 201, body: commitJson(putCommit(b.tree, b.parents, b.message)) };
  });
  fake.allow("POST", `${base}/git/refs`, (req) => {
    const b = body(req) as { ref: string; sha: string };
    const name = b.ref.replace(/^refs\//, "");
    if (state.refs.has(name)) return { status: 422, body: { message: "Reference already exists" } };
    state.refs.set(name, b.sha);
    return { status: 201, body: refJson(name) };
  });
  fake.allow("PATCH", `${base}/git/refs/{ref}`, (req, { ref = "" }) => {
    const b = body(req) as { sha: string };
    if (!state.refs.has(ref)) return { status: 422, body: { message: "Reference does not exist" } };
    state.refs.set(ref, b.sha);
    return { body: refJson(ref) };
  });
  fake.allow("GET", `${base}/pulls`, (req) => {
    const head = req.query.get("head");
    const list = state.pulls.filter((p) => (!head || `${owner}:${p.head.ref}` === head) && (req.query.get("state") === "all" || p.state === "open"));
    return { body: list.map(pullJson) };
  });
  fake.allow("POST", `${base}/pulls`, (req) => {
    const b = body(req) as { title: string; body?: string; head: string; base: string; draft?: boolean };
    const p: ModelPull = {
      number: nextId++,
      title: b.title,
      body: b.body ?? "",
      draft: b.draft ?? false,
      state: "open",
      head: { ref: b.head, sha: state.refs.get(`heads/${b.head}`) ?? "", repoFullName: `${owner}/${repo}` },
      base: { ref: b.base, sha: state.refs.get(`heads/${b.base}`) ?? "" },
      files: [],
      user: "octoflow[bot]",
    };
    state.pulls.push(p);
    return { status: 201, body: pullJson(p) };
  });
  const unifiedDiff = (p: ModelPull) =>
    p.files.map((f) => `diff --git a/${f.filename} b/${f.filename}\n--- a/${f.filename}\n+++ b/${f.filename}\n${f.patch ?? ""}\n`).join("");
  fake.allow("GET", `${base}/pulls/{pull_number}`, (req, { pull_number = "" }) => {
    const p = state.pulls.find((x) => x.number === Number(pull_number));
    if (!p) return { status: 404, body: { message: "Not Found" } };
    if (String(req.headers.accept).includes("diff")) return { body: unifiedDiff(p) };
    return { body: pullJson(p) };
  });
  fake.allow("GET", `${base}/compare/{basehead}`, (req, { basehead = "" }) => {
    // Two-dot: the fake's branches are linear, so the merge base of from and to is from.
    const [from = "", to = ""] = basehead.split("...");
    const fromSha = resolve(from);
    const toSha = resolve(to);
    if (!fromSha || !toSha) return { status: 404, body: { message: "Not Found" } };
    const before = filesAt(fromSha);
    const after = filesAt(toSha);
    const paths = [...new Set([...before.keys(), ...after.keys()])].filter((p) => before.get(p) !== after.get(p)).sort();
    if (String(req.headers.accept).includes("diff")) return { body: paths.map((p) => unifiedFileDiff(p, before.get(p), after.get(p))).join("") };
    const files = paths.map((filename) => {
      const diff = fileDiff(before.get(filename), after.get(filename));
      const status = !before.has(filename) ? "added" : !after.has(filename) ? "removed" : "modified";
      return { sha: sha(`blob:${after.get(filename) ?? ""}`), filename, status, additions: diff.additions, deletions: diff.deletions, changes: diff.additions + diff.deletions, blob_url: "https://github.com/b", raw_url: "https://github.com/r", contents_url: "https://api.github.com/c", patch: diff.patch };
    });
    return { body: { url: `https://api.github.com${base}/compare/${basehead}`, html_url: `${htmlBase}/compare/${basehead}`, status: "ahead", ahead_by: 1, behind_by: 0, total_commits: 1, commits: [], files } };
  });
  fake.allow("GET", `${base}/issues/{issue_number}`, (_req, { issue_number = "" }) => {
    const number = Number(issue_number);
    const issue = options.issues?.[number];
    const pull = state.pulls.find((x) => x.number === number);
    if (!issue && !pull) return { status: 404, body: { message: "Not Found" } };
    return {
      body: {
        id: number, node_id: "I_1", number, title: issue?.title ?? pull?.title ?? "", body: issue?.body ?? pull?.body ?? "", state: "open",
        url: `https://api.github.com${base}/issues/${number}`, html_url: `${htmlBase}/issues/${number}`, user: user("alice"), labels: [], comments: 0,
        created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z", locked: false, author_association: "OWNER",
      },
    };
  });
  fake.allow("PATCH", `${base}/pulls/{pull_number}`, (req, { pull_number = "" }) => {
    const p = state.pulls.find((x) => x.number === Number(pull_number));
    if (!p) return { status: 404, body: { message: "Not Found" } };
    const b = body(req);
    if (typeof b.title === "string") p.title = b.title;
    if (typeof b.body === "string") p.body = b.body;
    return { body: pullJson(p) };
  });
  fake.allow("GET", `${base}/pulls/{pull_number}/files`, (req, { pull_number = "" }) => {
    const p = state.pulls.find((x) => x.number === Number(pull_number));
    const page = Number(req.query.get("page") ?? "1");
    const perPage = Number(req.query.get("per_page") ?? "30");
    const files = (p?.files ?? []).slice((page - 1) * perPage, page * perPage);
    return { body: files.map((f) => ({ sha: sha(f.filename), blob_url: "https://github.com/b", raw_url: "https://github.com/r", contents_url: "https://api.github.com/c", changes: f.additions + f.deletions, ...f })) };
  });
  fake.allow("POST", `${base}/pulls/{pull_number}/reviews`, (req, { pull_number = "" }) => {
    const b = body(req) as { body?: string; event?: string; commit_id?: string; comments?: Record<string, unknown>[] };
    state.reviews.push({ pullNumber: Number(pull_number), body: b.body ?? "", event: b.event ?? "PENDING", ...(b.commit_id ? { commitId: b.commit_id } : {}), comments: b.comments ?? [] });
    const id = nextId++;
    reviewThreads.addReviewComments(Number(pull_number), id, b.commit_id ?? "", b.comments ?? []);
    return { body: { id, node_id: "PRR_1", user: user("octoflow[bot]"), body: b.body ?? "", state: "COMMENTED", html_url: `${htmlBase}/pull/${pull_number}#pullrequestreview-${id}`, pull_request_url: "https://api.github.com/p", commit_id: b.commit_id ?? "", author_association: "NONE", _links: { html: { href: "https://github.com/x" }, pull_request: { href: "https://github.com/x" } } } };
  });
  fake.allow("GET", `${base}/issues/{issue_number}/comments`, (req, { issue_number = "" }) => {
    const page = Number(req.query.get("page") ?? "1");
    const perPage = Number(req.query.get("per_page") ?? "30");
    const list = [...state.comments.values()].filter((c) => c.issueNumber === Number(issue_number));
    return { body: list.slice((page - 1) * perPage, page * perPage).map(commentJson) };
  });
  fake.allow("POST", `${base}/issues/{issue_number}/comments`, (req, { issue_number = "" }) => {
    const c = { id: nextId++, issueNumber: Number(issue_number), body: String(body(req).body), user: "octoflow[bot]" };
    state.comments.set(c.id, c);
    return { status: 201, body: commentJson(c) };
  });
  fake.allow("PATCH", `${base}/issues/comments/{comment_id}`, (req, { comment_id = "" }) => {
    const c = state.comments.get(Number(comment_id));
    if (!c) return { status: 404, body: { message: "Not Found" } };
    c.body = String(body(req).body);
    return { body: commentJson(c) };
  });
  fake.allow("POST", `${base}/issues/comments/{comment_id}/reactions`, (req, { comment_id = "" }) => {
    const content = String(body(req).content);
    state.reactions.push({ commentId: Number(comment_id), content });
    return { status: 201, body: { id: nextId++, node_id: "RE_1", user: user("octoflow[bot]"), content, created_at: "2026-01-01T00:00:00Z" } };
  });
  const checkRunJson = (id: number) => {
    const c = state.checkRuns.get(id) ?? {};
    const output = (c.output ?? {}) as { title?: string | null; summary?: string | null; text?: string | null };
    const app: CiApp = (c.ciApp as CiApp | undefined) ?? { id: options.appId ?? 123, slug: "octoflow", name: "Octoflow" };
    return { id, node_id: "CR_1", head_sha: c.head_sha, external_id: c.external_id ?? null, name: c.name, status: c.status ?? "queued", conclusion: c.conclusion ?? null, html_url: `${htmlBase}/runs/${id}`, details_url: null, url: `https://api.github.com${base}/check-runs/${id}`, started_at: null, completed_at: null, output: { title: output.title ?? null, summary: output.summary ?? null, text: output.text ?? null, annotations_count: ciAnnotations(id), annotations_url: `https://api.github.com${base}/check-runs/${id}/annotations` }, check_suite: c.check_suite ?? { id: 1 }, app: appJson(app), pull_requests: [] };
  };
  fake.allow("POST", `${base}/check-runs`, (req) => {
    const id = nextId++;
    state.checkRuns.set(id, { ...body(req) });
    return { status: 201, body: checkRunJson(id) };
  });
  fake.allow("GET", `${base}/commits/{ref}/check-runs`, (req, { ref = "" }) => {
    const name = req.query.get("check_name");
    const ids = [...state.checkRuns.entries()].filter(([, c]) => c.head_sha === ref && (name === null || c.name === name)).map(([id]) => id);
    return { body: { total_count: ids.length, check_runs: ids.map(checkRunJson) } };
  });
  fake.allow("PATCH", `${base}/check-runs/{check_run_id}`, (req, { check_run_id = "" }) => {
    const id = Number(check_run_id);
    const existing = state.checkRuns.get(id);
    if (!existing) return { status: 404, body: { message: "Not Found" } };
    state.checkRuns.set(id, { ...existing, ...body(req) });
    return { body: checkRunJson(id) };
  });

  const ci = installCiModel({ fake, base, owner, repo, checkRuns: state.checkRuns, nextId: () => nextId++, resolve });
  const ciAnnotations = (id: number) => ci.annotationCount(id);

  return {
    owner,
    repo,
    defaultBranch,
    state,
    reviewThreads,
    ci,
    filesAt,
    addPull(pull) {
      const p: ModelPull = { state: "open", user: "alice", ...pull };
      state.pulls.push(p);
      return p;
    },
    commitFiles(branch, files, message = "update") {
      const parent = state.refs.get(`heads/${branch}`) ?? state.refs.get(`heads/${defaultBranch}`) ?? "";
      const parentTree = state.commits.get(parent)?.tree;
      const entries = new Map(parentTree ? (state.trees.get(parentTree) ?? []) : []);
      for (const [p, c] of Object.entries(files)) entries.set(p, putBlob(c));
      const commitSha = putCommit(putTree(entries), [parent], message);
      state.refs.set(`heads/${branch}`, commitSha);
      return commitSha;
    },
  };
}

/** A gzip tar like GitHub's archives: a pax global header naming the commit, then `<top>/<path>` entries. */
async function tarball(top: string, commitSha: string, files: Map<string, string>): Promise<Buffer> {
  const entries: { header: Parameters<ReturnType<typeof pack>["entry"]>[0]; content?: Buffer }[] = [{ header: { name: `${top}/`, type: "directory", mode: 0o755 } }];
  const dirs = new Set<string>();
  for (const path of [...files.keys()].sort()) {
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join("/");
      if (dirs.has(dir)) continue;
      dirs.add(dir);
      entries.push({ header: { name: `${top}/${dir}/`, type: "directory", mode: 0o755 } });
    }
    entries.push({ header: { name: `${top}/${path}`, type: "file", mode: 0o644 }, content: Buffer.from(files.get(path) ?? "", "utf8") });
  }
  const global = await tarBytes([{ header: { name: "pax_global_header", type: "file", mode: 0o666 }, content: Buffer.from(`52 comment=${commitSha}\n`) }]);
  // tar-stream cannot write a global header ('g'): write a file entry and retype it, fixing the checksum.
  const header = global.subarray(0, 512);
  header[156] = "g".charCodeAt(0);
  header.fill(0x20, 148, 156);
  const sum = header.reduce((n, b) => n + b, 0);
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  return gzipSync(Buffer.concat([global.subarray(0, 1024), await tarBytes(entries)]));
}

async function tarBytes(entries: { header: Parameters<ReturnType<typeof pack>["entry"]>[0]; content?: Buffer }[]): Promise<Buffer> {
  const archive = pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of archive) chunks.push(chunk as Buffer);
  })();
  for (const { header, content } of entries) {
    await new Promise<void>((resolveEntry, reject) => {
      archive.entry(header, content ?? Buffer.alloc(0), (error) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolveEntry()));
    });
  }
  archive.finalize();
  await done;
  return Buffer.concat(chunks);
}

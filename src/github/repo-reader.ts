/**
 * `RepoReader` over the GitHub REST API, for the agents' context builder. Every read is bounded:
 * one tree request per ref for the reader's life (GitHub truncates huge trees), files up to
 * `maxFileBytes`, threads up to `maxComments` comments.
 */
import type { RepoReader } from "../workflows/ports.ts";
import type { RepoRef, Trigger } from "../workflows/types.ts";
import { httpStatus, type GitHubClient, type GitHubClients } from "./client.ts";

/** Refs whose tree one reader keeps (a run reads one or two: its base and the default branch). */
const MAX_LISTINGS = 4;

export interface RepoReaderOptions {
  /** Files larger than this are treated as absent (default 1 MB). */
  maxFileBytes?: number;
  /** Most thread comments read (default 100, the newest are kept). */
  maxComments?: number;
  /** Largest diff returned, in characters (default 2 MB; the context builder clips further). */
  maxDiffChars?: number;
}

/**
 * @example
 * const reader = createGitHubRepoReader(() => clients.forInstallation(id), { owner: "octo", name: "app", defaultBranch: "main" });
 * const readme = await reader.readFile("README.md", "main");
 */
export function createGitHubRepoReader(client: () => Promise<GitHubClient>, repo: Pick<RepoRef, "owner" | "name">, options: RepoReaderOptions = {}): RepoReader {
  const owner = repo.owner;
  const name = repo.name;
  const maxFileBytes = options.maxFileBytes ?? 1_000_000;
  const maxComments = options.maxComments ?? 100;
  const maxDiffChars = options.maxDiffChars ?? 2_000_000;
  /** The recursive tree per ref, read once for the reader's life (one run: see `repoReaderFor`). */
  const listings = new Map<string, Promise<{ paths: string[]; truncated: boolean }>>();
  let cached: Promise<GitHubClient> | undefined;
  const gh = () => (cached ??= client().catch((error: unknown) => {
    cached = undefined;
    throw error;
  }));

  return {
    async listFiles(ref) {
      let listing = listings.get(ref);
      if (!listing) {
        listing = (async () => {
          const octokit = await gh();
          const { data } = await octokit.rest.git.getTree({ owner, repo: name, tree_sha: ref, recursive: "true" });
          return { paths: data.tree.filter((e) => e.type === "blob" && e.path).map((e) => e.path as string), truncated: data.truncated };
        })();
        listings.set(ref, listing);
        // a failed read is not remembered; the oldest ref goes when too many are held
        listing.catch(() => listings.get(ref) === listing && listings.delete(ref));
        if (listings.size > MAX_LISTINGS) listings.delete(listings.keys().next().value as string);
      }
      const { paths, truncated } = await listing;
      return { paths: [...paths], truncated };
    },
    async readFile(path, ref) {
      const octokit = await gh();
      try {
        const { data } = await octokit.rest.repos.getContent({ owner, repo: name, path, ref, mediaType: { format: "raw" } });
        if (typeof data !== "string") return undefined;
        return Buffer.byteLength(data, "utf8") > maxFileBytes ? undefined : data;
      } catch (error) {
        const status = httpStatus(error);
        if (status === 404 || status === 403) return undefined;
        throw error;
      }
    },
    async pullRequestDiff(number, diffOptions = {}) {
      const octokit = await gh();
      let diff: unknown;
      if (diffOptions.sinceSha) {
        const pull = await octokit.rest.pulls.get({ owner, repo: name, pull_number: number });
        try {
          diff = (await octokit.rest.repos.compareCommitsWithBasehead({ owner, repo: name, basehead: `${diffOptions.sinceSha}...${pull.data.head.sha}`, mediaType: { format: "diff" } })).data;
        } catch (error) {
          // A force-push can make the old SHA unknown: fall back to the whole pull request.
          if (httpStatus(error) !== 404) throw error;
        }
      }
      diff ??= (await octokit.rest.pulls.get({ owner, repo: name, pull_number: number, mediaType: { format: "diff" } })).data;
      const text = typeof diff === "string" ? diff : "";
      return text.length > maxDiffChars ? text.slice(0, maxDiffChars) : text;
    },
    async thread(number) {
      const octokit = await gh();
      const issue = (await octokit.rest.issues.get({ owner, repo: name, issue_number: number })).data;
      const comments: { author: string; body: string }[] = [];
      for await (const page of octokit.paginate.iterator(octokit.rest.issues.listComments, { owner, repo: name, issue_number: number, per_page: 100 })) {
        for (const c of page.data) {
          // Octoflow's own progress comments are not conversation.
          if (c.body?.includes("<!-- octoflow:run:")) continue;
          comments.push({ author: c.user?.login ?? "ghost", body: c.body ?? "" });
        }
        if (comments.length >= maxComments * 5) break;
      }
      return { title: issue.title, body: issue.body ?? "", comments: comments.slice(-maxComments) };
    },
  };
}

/**
 * A `RepoReader` factory for the agent runner: one reader per run, shared by the run's steps (the
 * engine hands every step of a run the same trigger object), so the recursive tree — hundreds of
 * milliseconds of parsing at 50,000 files — is downloaded and parsed once per run, not per step. The
 * reader is held only as long as the run's trigger is (a `WeakMap`), so memory follows live runs.
 */
export function repoReaderFor(clients: GitHubClients, options: RepoReaderOptions = {}): (trigger: Trigger) => RepoReader {
  const perRun = new WeakMap<Trigger, RepoReader>();
  return (trigger) => {
    const existing = perRun.get(trigger);
    if (existing) return existing;
    const installationId = trigger.repo.installationId;
    const reader = createGitHubRepoReader(
      () => (installationId === undefined ? Promise.reject(new Error("the run has no GitHub installation")) : clients.forInstallation(installationId)),
      trigger.repo,
      options,
    );
    perRun.set(trigger, reader);
    return reader;
  };
}

/**
 * The workspace's `RepositorySource` over GitHub's REST API: the run's base commit, the repository
 * archive (`GET /repos/{o}/{r}/tarball/{sha}`, which redirects to a download host, also on GHES),
 * and the lazy fallback's tree and per-file reads. File bytes are read raw, never decoded on the way.
 */
import type { RepositorySource } from "../workspace/repository-source.ts";
import type { RunStore } from "../workflows/ports.ts";
import type { RepoRef, Trigger } from "../workflows/types.ts";
import { workBranchKey } from "../store/marker-keys.ts";
import { httpStatus, type GitHubClient, type GitHubClients } from "./client.ts";

/**
 * @param client an installation client for the repository (created on first use)
 * @param store where the bot's branch for an issue is remembered (a re-run starts from that branch)
 *
 * @example
 * const source = createGitHubRepositorySource(() => clients.forInstallation(id), trigger.repo, store);
 * const base = await source.resolveBase(trigger);
 */
export function createGitHubRepositorySource(client: () => Promise<GitHubClient>, repo: Pick<RepoRef, "owner" | "name" | "defaultBranch">, store: Pick<RunStore, "getMarker">): RepositorySource {
  const { owner, name, defaultBranch } = repo;
  let cached: Promise<GitHubClient> | undefined;
  const gh = () =>
    (cached ??= client().catch((error: unknown) => {
      cached = undefined;
      throw error;
    }));
  const headOf = async (octokit: GitHubClient, branch: string): Promise<string | undefined> => {
    try {
      return (await octokit.rest.git.getRef({ owner, repo: name, ref: `heads/${branch}` })).data.object.sha;
    } catch (error) {
      if (httpStatus(error) === 404) return undefined;
      throw error;
    }
  };

  return {
    async resolveBase(trigger: Trigger) {
      const octokit = await gh();
      if (trigger.isPullRequest) {
        return trigger.pullRequest?.headSha ?? (await octokit.rest.pulls.get({ owner, repo: name, pull_number: trigger.number })).data.head.sha;
      }
      const branch = await store.getMarker(workBranchKey(owner, name, trigger.number));
      const existing = branch && branch !== defaultBranch ? await headOf(octokit, branch) : undefined;
      if (existing) return existing;
      const head = await headOf(octokit, defaultBranch);
      if (!head) throw new Error(`the default branch ${defaultBranch} of ${owner}/${name} was not found`);
      return head;
    },
    async archive(sha, signal) {
      const octokit = await gh();
      try {
        const response = await octokit.request("GET /repos/{owner}/{repo}/tarball/{ref}", {
          owner,
          repo: name,
          ref: sha,
          request: { parseSuccessResponseBody: false, ...(signal ? { signal } : {}) },
        });
        const body = response.data as unknown;
        if (!body || typeof body !== "object" || !(Symbol.asyncIterator in body)) return { ok: false, reason: "the archive response had no body" };
        return { ok: true, body: body as AsyncIterable<Uint8Array> };
      } catch (error) {
        const status = httpStatus(error);
        return { ok: false, reason: status === undefined ? `the archive download failed (${error instanceof Error ? error.message : String(error)})` : `the archive answered HTTP ${status}` };
      }
    },
    async tree(sha) {
      const octokit = await gh();
      const { data } = await octokit.rest.git.getTree({ owner, repo: name, tree_sha: sha, recursive: "true" });
      const blobs = data.tree.filter((e) => e.type === "blob" && e.path);
      return { paths: blobs.map((e) => e.path as string), executable: blobs.filter((e) => e.mode === "100755").map((e) => e.path as string), truncated: data.truncated };
    },
    async file(sha, path) {
      const octokit = await gh();
      try {
        const response = await octokit.request("GET /repos/{owner}/{repo}/contents/{path}", {
          owner,
          repo: name,
          path,
          ref: sha,
          mediaType: { format: "raw" },
          request: { parseSuccessResponseBody: false },
        });
        return new Uint8Array(await new Response(response.data as unknown as ReadableStream<Uint8Array>).arrayBuffer());
      } catch (error) {
        if (httpStatus(error) === 404) return undefined;
        throw error;
      }
    },
  };
}

/** A `RepositorySource` factory per trigger, for `createRunWorkspaces({ sourceFor })`. */
export function repositorySourceFor(clients: GitHubClients, store: Pick<RunStore, "getMarker">): (trigger: Trigger) => RepositorySource {
  return (trigger) => {
    const installationId = trigger.repo.installationId;
    return createGitHubRepositorySource(
      () => (installationId === undefined ? Promise.reject(new Error("the run has no GitHub installation")) : clients.forInstallation(installationId)),
      trigger.repo,
      store,
    );
  };
}

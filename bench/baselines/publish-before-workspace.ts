/**
 * Baseline for `bench/github-publish-requests.ts`: the GitHub requests of the pull request output as
 * it was before the run workspace (commit b29730d…9b688cc of src/github/outputs/pull-request-output.ts),
 * reduced to its requests: read each modified file again at the branch head, one blob per file, the
 * head commit fetched per producing step, then tree, commit, ref and the pull request.
 * Kept only so the benchmark measures "before" and "after" side by side in one run; not used by the app.
 */
import type { GitHubClient } from "../../src/github/client.ts";
import { httpStatus } from "../../src/github/client.ts";
import type { FileEdit } from "../../src/workflows/types.ts";

export async function publishBeforeWorkspace(octokit: GitHubClient, repo: { owner: string; name: string; defaultBranch: string }, branch: string, steps: FileEdit[][]): Promise<void> {
  const gh = octokit.rest;
  const { owner, name } = repo;
  let branchExists = true;
  let head: string;
  try {
    head = (await gh.git.getRef({ owner, repo: name, ref: `heads/${branch}` })).data.object.sha;
  } catch (error) {
    if (httpStatus(error) !== 404) throw error;
    branchExists = false;
    head = (await gh.git.getRef({ owner, repo: name, ref: `heads/${repo.defaultBranch}` })).data.object.sha;
  }
  for (const edits of steps) {
    const entries: { path: string; mode: "100644"; type: "blob"; sha: string | null }[] = [];
    for (const edit of edits) {
      if (edit.kind === "delete") {
        entries.push({ path: edit.path, mode: "100644", type: "blob", sha: null });
        continue;
      }
      let content = edit.kind === "create" ? edit.content : "";
      if (edit.kind === "modify") {
        const { data } = await gh.repos.getContent({ owner, repo: name, path: edit.path, ref: head, mediaType: { format: "raw" } });
        content = String(data);
        for (const block of edit.blocks) content = content.replace(block.search, () => block.replace);
      }
      const blob = await gh.git.createBlob({ owner, repo: name, content: Buffer.from(content, "utf8").toString("base64"), encoding: "base64" });
      entries.push({ path: edit.path, mode: "100644", type: "blob", sha: blob.data.sha });
    }
    const baseTree = (await gh.git.getCommit({ owner, repo: name, commit_sha: head })).data.tree.sha;
    const tree = await gh.git.createTree({ owner, repo: name, base_tree: baseTree, tree: entries });
    head = (await gh.git.createCommit({ owner, repo: name, message: "step", tree: tree.data.sha, parents: [head] })).data.sha;
  }
  if (branchExists) await gh.git.updateRef({ owner, repo: name, ref: `heads/${branch}`, sha: head, force: false });
  else await gh.git.createRef({ owner, repo: name, ref: `refs/heads/${branch}`, sha: head });
  const { data } = await gh.pulls.list({ owner, repo: name, head: `${owner}:${branch}`, state: "open", per_page: 1 });
  if (data.length === 0) await gh.pulls.create({ owner, repo: name, head: branch, base: repo.defaultBranch, draft: true, title: "Octoflow", body: "b" });
}

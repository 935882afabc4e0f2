/**
 * What a push changed on a pull request: the diff of the previously reviewed SHA to the new head,
 * from the compare API (`GET /compare/{since}...{head}`, its files' patches; GitHub lists up to 300
 * files). A review of a push places inline comments only on these changes, and a finding whose lines
 * they rewrote may have been fixed.
 */
import { httpStatus } from "../client.ts";
import { parsePatch, type FileDiff } from "./diff-map.ts";
import type { OutputDeps } from "./pull-request-output.ts";

export interface PushDiff {
  sinceSha: string;
  headSha: string;
  /** Patches by file (new path); a file without a patch (binary, too large) is absent. */
  files: Map<string, FileDiff>;
  /** Files the push deleted. */
  removed: Set<string>;
}

/**
 * The diff `sinceSha...headSha`, or undefined when GitHub cannot compare them (the old head was
 * force-pushed away: 404). Other failures propagate (the outputs are delivered again).
 *
 * @example
 * const push = await pushDiff(deps, "octo", "app", "aaa111", "bbb222");
 * push?.files.get("src/a.ts")?.added.has(3);
 */
export async function pushDiff(deps: OutputDeps, owner: string, repo: string, sinceSha: string, headSha: string): Promise<PushDiff | undefined> {
  try {
    const { data } = await deps.octokit.rest.repos.compareCommitsWithBasehead({ owner, repo, basehead: `${sinceSha}...${headSha}` });
    const files = new Map<string, FileDiff>();
    const removed = new Set<string>();
    for (const file of data.files ?? []) {
      if (file.status === "removed") removed.add(file.filename);
      if (file.patch) files.set(file.filename, parsePatch(file.filename, file.patch));
    }
    return { sinceSha, headSha, files, removed };
  } catch (error) {
    const status = httpStatus(error);
    if (status === 404 || status === 422) {
      deps.log.info({ err: error, sinceSha, headSha }, "the push cannot be compared with the last reviewed SHA; reviewing the whole diff");
      return undefined;
    }
    throw error;
  }
}

/**
 * Checks file edits against the repository before anything is written: paths normalised and kept
 * inside the repository, `.github/workflows/` refused, modify/delete targets exist, create targets
 * do not, and every search block occurs exactly once (blocks applied in order).
 */
import type { RepoReader } from "../../workflows/ports.ts";
import type { FileEdit } from "../../workflows/types.ts";

export interface EditValidation {
  /** The edits with normalised paths (only meaningful when `problems` is empty). */
  edits: FileEdit[];
  /** One line per problem, naming the path. */
  problems: string[];
}

/**
 * Normalises a repository path: forward slashes, no leading `./` or `/`, no `.` segments.
 * Returns undefined for paths that leave the repository or are empty.
 */
export function normalizeRepoPath(path: string): string | undefined {
  const segments: string[] = [];
  for (const segment of path.trim().replace(/\\/g, "/").split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") return undefined;
    segments.push(segment);
  }
  if (segments.length === 0) return undefined;
  if (/^[A-Za-z]:$/.test(segments[0] ?? "")) return undefined;
  return segments.join("/");
}

/** True for paths under `.github/workflows/` (the bot never edits CI). */
export function isWorkflowPath(path: string): boolean {
  return /^\.github\/workflows(\/|$)/i.test(path);
}

/**
 * Validates `edits` against the files at `ref`.
 *
 * @example
 * const { edits: ok, problems } = await validateEdits(edits, reader, "main");
 */
export async function validateEdits(edits: FileEdit[], reader: Pick<RepoReader, "readFile">, ref: string): Promise<EditValidation> {
  const problems: string[] = [];
  const out: FileEdit[] = [];
  const seen = new Set<string>();
  for (const edit of edits) {
    const path = normalizeRepoPath(edit.path);
    if (path === undefined) {
      problems.push(`${JSON.stringify(edit.path)}: not a path inside the repository`);
      continue;
    }
    if (isWorkflowPath(path)) {
      problems.push(`${path}: files under .github/workflows/ are never changed by Octoflow`);
      continue;
    }
    if (seen.has(path)) {
      problems.push(`${path}: edited more than once; merge the edits into one`);
      continue;
    }
    seen.add(path);
    const current = await reader.readFile(path, ref);
    if (edit.kind === "create") {
      if (current !== undefined) problems.push(`${path}: already exists; use "modify" with search/replace blocks`);
      else out.push({ kind: "create", path, content: edit.content });
    } else if (edit.kind === "delete") {
      if (current === undefined) problems.push(`${path}: cannot delete a file that does not exist`);
      else out.push({ kind: "delete", path });
    } else {
      if (current === undefined) {
        problems.push(`${path}: cannot modify a file that does not exist; use "create"`);
        continue;
      }
      let content = current;
      let ok = true;
      edit.blocks.forEach((block, index) => {
        const label = `${path} block ${index + 1}`;
        if (block.search === "") {
          problems.push(`${label}: the search text is empty`);
          ok = false;
          return;
        }
        const count = occurrences(content, block.search);
        if (count !== 1) {
          problems.push(`${label}: the search text occurs ${count} times (it must occur exactly once)`);
          ok = false;
          return;
        }
        content = content.replace(block.search, () => block.replace);
      });
      if (ok) out.push({ kind: "modify", path, blocks: edit.blocks });
    }
  }
  return { edits: out, problems };
}

/** Applies modify blocks to `content` (assumes they were validated). */
export function applyBlocks(content: string, blocks: { search: string; replace: string }[]): string {
  let out = content;
  for (const block of blocks) out = out.replace(block.search, () => block.replace);
  return out;
}

function occurrences(haystack: string, needle: string): number {
  let count = 0;
  for (let i = haystack.indexOf(needle); i !== -1; i = haystack.indexOf(needle, i + 1)) {
    count += 1;
    if (count > 1) break;
  }
  return count;
}

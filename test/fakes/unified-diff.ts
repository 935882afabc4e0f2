/**
 * Line diffs the way GitHub serves them: a file's `patch` (hunks with 3 lines of context, as in
 * `files[].patch` of the compare and pull-request-files APIs) and a file's section of a `.diff`.
 */
import { structuredPatch } from "diff";

/** The hunks of one file's change (`undefined` = absent) and its line counts. */
export function fileDiff(before: string | undefined, after: string | undefined): { patch: string; additions: number; deletions: number } {
  const { hunks } = structuredPatch("a", "b", before ?? "", after ?? "", undefined, undefined, { context: 3 });
  // git's numbering: an empty side starts at the line before the hunk (`@@ -0,0 +1 @@` for a new file)
  const range = (start: number, count: number) => (count === 1 ? `${start}` : `${count === 0 ? start - 1 : start},${count}`);
  let additions = 0;
  let deletions = 0;
  const text = hunks.map((h) => {
    for (const line of h.lines) {
      if (line.startsWith("+")) additions++;
      else if (line.startsWith("-")) deletions++;
    }
    return [`@@ -${range(h.oldStart, h.oldLines)} +${range(h.newStart, h.newLines)} @@`, ...h.lines].join("\n");
  });
  return { patch: text.join("\n"), additions, deletions };
}

/** One file's section of a git-style unified diff (`application/vnd.github.diff`). */
export function unifiedFileDiff(path: string, before: string | undefined, after: string | undefined): string {
  const header = [`diff --git a/${path} b/${path}`];
  if (before === undefined) header.push("new file mode 100644");
  if (after === undefined) header.push("deleted file mode 100644");
  header.push(`--- ${before === undefined ? "/dev/null" : `a/${path}`}`, `+++ ${after === undefined ? "/dev/null" : `b/${path}`}`);
  return `${header.join("\n")}\n${fileDiff(before, after).patch}\n`;
}

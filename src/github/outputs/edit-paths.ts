/**
 * Rules for the files Octoflow may write and the branch it writes to.
 */

/** Why a path may not be written, or undefined when it may. */
export function refusePath(path: string): string | undefined {
  if (path.length === 0 || path.length > 1024) return "empty or too long path";
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path) || path.includes("\\")) return "absolute or Windows path";
  const parts = path.split("/");
  if (parts.some((p) => p === "" || p === "." || p === "..")) return "path with an empty, `.` or `..` segment";
  if (parts.some((p) => p.toLowerCase() === ".git")) return "inside a .git directory";
  if (path.toLowerCase().startsWith(".github/workflows/")) return "GitHub Actions workflows (`.github/workflows/`) are never changed by Octoflow";
  return undefined;
}

/** `octoflow/<issue>-<slug>` where the slug comes from the issue title (or the workflow). */
export function branchName(issueNumber: number, title: string): string {
  const slug =
    title
      .toLowerCase()
      .normalize("NFKD")
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 40)
      .replace(/-+$/g, "") || "change";
  return `octoflow/${issueNumber}-${slug}`;
}

/**
 * Applies search/replace blocks to a file's content. Each `search` must occur exactly as given;
 * returns the new content or the first block that did not match.
 */
export function applyBlocks(content: string, blocks: { search: string; replace: string }[]): { ok: true; content: string } | { ok: false; missing: string } {
  let out = content;
  for (const block of blocks) {
    if (block.search === "") {
      out += block.replace;
      continue;
    }
    const at = out.indexOf(block.search);
    if (at < 0) return { ok: false, missing: block.search };
    out = out.slice(0, at) + block.replace + out.slice(at + block.search.length);
  }
  return { ok: true, content: out };
}

/**
 * Rules for the files Octoflow may write, what their content may hold, and the branch it writes to.
 */

/**
 * Paths the bot never changes, whatever a repository configures: CI workflows and the local actions
 * they run (both execute with the repository's secrets). `protectedPaths` in `.github/octoflow.yml`
 * adds to these; it cannot remove them.
 */
export const DEFAULT_PROTECTED_PATHS = [".github/workflows/", ".github/actions/"] as const;

/**
 * Whether `path` is protected: an entry ending in `/` protects that folder and everything under it,
 * any other entry one exact file. Compared case-insensitively (GitHub runs `.GitHub/Workflows/` too on
 * case-insensitive checkouts). Plain prefixes, no globs: nothing here can backtrack.
 */
export function protectedBy(path: string, extra: readonly string[] = []): string | undefined {
  const lower = path.toLowerCase();
  for (const entry of [...DEFAULT_PROTECTED_PATHS, ...extra]) {
    const rule = entry.toLowerCase().replace(/^\.\//, "");
    if (rule.endsWith("/") ? lower.startsWith(rule) || `${lower}/` === rule : lower === rule) return entry;
  }
  return undefined;
}

/** Why a path may not be written, or undefined when it may. `extraProtected`: the repository's `protectedPaths`. */
export function refusePath(path: string, extraProtected: readonly string[] = []): string | undefined {
  if (path.length === 0 || path.length > 1024) return "empty or too long path";
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path) || path.includes("\\")) return "absolute or Windows path";
  const parts = path.split("/");
  if (parts.some((p) => p === "" || p === "." || p === "..")) return "path with an empty, `.` or `..` segment";
  if (parts.some((p) => p.toLowerCase() === ".git")) return "inside a .git directory";
  const rule = protectedBy(path, extraProtected);
  if (rule) {
    return (DEFAULT_PROTECTED_PATHS as readonly string[]).includes(rule)
      ? `\`${rule}\` (GitHub Actions) is never changed by Octoflow`
      : `\`${rule}\` is protected by \`protectedPaths\` in .github/octoflow.yml`;
  }
  return undefined;
}

/** Live-looking credentials: a file edit that adds one is refused (placeholders such as `ghp_xxx` are too short to match). */
const LIVE_TOKENS: readonly { kind: string; pattern: RegExp }[] = [
  { kind: "GitHub token (ghp_/gho_/ghu_/ghs_/ghr_…)", pattern: /\bgh[pousr]_[A-Za-z0-9]{30,}\b/g },
  { kind: "GitHub fine-grained token (github_pat_…)", pattern: /\bgithub_pat_[A-Za-z0-9_]{40,}\b/g },
  { kind: "Anthropic API key (sk-ant-…)", pattern: /\bsk-ant-[A-Za-z0-9_-]{30,}/g },
  { kind: "OpenAI API key (sk-…)", pattern: /\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{30,}/g },
  { kind: "AWS access key (AKIA…)", pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
  { kind: "Slack token (xox…)", pattern: /\bxox[abposr]-\d{6,}-[A-Za-z0-9-]{8,}/g },
  { kind: "private key", pattern: /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----\r?\n[A-Za-z0-9+/=]{40}/g },
];

function tokensIn(content: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const { kind, pattern } of LIVE_TOKENS) for (const match of content.matchAll(pattern)) if (!found.has(match[0])) found.set(match[0], kind);
  return found;
}

/**
 * The kind of the first live-looking credential that `content` adds (one already in `before`, the
 * file as it was, does not count), or undefined.
 *
 * @example
 * addedSecret("key = ghp_" + "a".repeat(36)); // "GitHub token (ghp_/gho_/ghu_/ghs_/ghr_…)"
 */
export function addedSecret(content: string, before = ""): string | undefined {
  const existing = tokensIn(before);
  for (const [token, kind] of tokensIn(content)) if (!existing.has(token)) return kind;
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

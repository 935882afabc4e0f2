/**
 * Path rules of the workspace tools: a path the model gives is normalised to a repository-relative
 * path (forward slashes, no `./`, no `.` segments) or refused with a `WorkspacePathError` naming why:
 * absolute, leaving the repository (`..`), inside `.git/`, or, for writes, under `.github/workflows/`.
 */
import picomatch from "picomatch";
import { WorkspacePathError } from "../../errors/workspace-path-error.ts";

/** Paths longer than this are refused (GitHub's own limit is 4,096 bytes; no real file comes close). */
const MAX_PATH_CHARS = 1_024;

/**
 * The normalised form of `raw`; throws `WorkspacePathError` when the path is not allowed.
 * `access: "write"` also refuses `.github/workflows/` (the bot never edits CI).
 *
 * @example
 * normalizeWorkspacePath("./src//app.ts", "read"); // "src/app.ts"
 * normalizeWorkspacePath("../etc/passwd", "read"); // throws WorkspacePathError
 */
export function normalizeWorkspacePath(raw: string, access: "read" | "write"): string {
  const path = normalizeWorkspaceDir(raw);
  if (path === "") throw refuse(raw, "empty path; give a file path relative to the repository root");
  if (access === "write" && isProtectedPath(path)) {
    throw refuse(raw, "files under .github/workflows/ are never changed by Octoflow (nor .github/actions/); leave CI alone");
  }
  return path;
}

/** Like `normalizeWorkspacePath` for a directory: `""`, `"."` and `"/"`-free forms of the root give `""`. */
export function normalizeWorkspaceDir(raw: string): string {
  if (typeof raw !== "string") throw refuse(String(raw), "not a string");
  if (raw.length > MAX_PATH_CHARS) throw refuse(raw, `longer than ${MAX_PATH_CHARS} characters`);
  if (raw.includes("\0")) throw refuse(raw, "contains a NUL character");
  const trimmed = raw.trim().replace(/\\/g, "/");
  if (trimmed.startsWith("/") || /^[A-Za-z]:/.test(trimmed) || /^~/.test(trimmed)) {
    throw refuse(raw, "absolute paths are not allowed; give a path relative to the repository root");
  }
  const segments: string[] = [];
  for (const segment of trimmed.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") throw refuse(raw, "`..` leaves the repository; give a path relative to the repository root");
    if (segment.toLowerCase() === ".git") throw refuse(raw, "the .git directory is not part of the workspace");
    segments.push(segment);
  }
  return segments.join("/");
}

/** True for paths the bot never writes (`.github/workflows/`, `.github/actions/`: `DEFAULT_PROTECTED_PATHS` of publishing). */
export function isProtectedPath(path: string): boolean {
  return /^\.github\/(workflows|actions)(\/|$)/i.test(path);
}

function refuse(path: string, reason: string): WorkspacePathError {
  return new WorkspacePathError(path, `${JSON.stringify(path.slice(0, 300))}: ${reason}`);
}

/**
 * A matcher for a workspace glob, as `WorkspaceView.listFiles` defines them: matched against the full
 * path (`*` inside one folder, `**` across folders, dot files included); a glob without `/` such as
 * `*.ts` matches the file name in any folder.
 *
 * @example
 * globMatcher("*.md")("docs/guide.md"); // true
 */
export function globMatcher(glob: string): (path: string) => boolean {
  const match = picomatch(glob, { dot: true, ...(glob.includes("/") ? {} : { basename: true }) });
  return (path) => match(path);
}

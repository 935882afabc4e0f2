/**
 * Path rules of the workspace: every path a step names is normalised to a relative repository path
 * (forward slashes, no `.` segments) and refused when it leaves the repository (`..`, absolute, drive
 * letters) or points into `.git/`. Writes are also checked against the protected-path rules of
 * publishing (`refusePath`, injected so the workspace and publishing refuse exactly the same paths).
 */
import { WorkspacePathError } from "../errors/workspace-path-error.ts";

/** Why a path may not be written (e.g. `.github/workflows/`), or undefined when it may. */
export type RefusePath = (path: string) => string | undefined;

const MAX_PATH = 1024;

/**
 * The normalised form of a path to read, or a `WorkspacePathError` saying why it is not one.
 *
 * @example
 * normalizePath("./src//app.ts") // "src/app.ts"
 * normalizePath("../etc/passwd") // throws WorkspacePathError
 */
export function normalizePath(raw: string): string {
  const trimmed = raw.trim();
  if (trimmed === "" || trimmed.length > MAX_PATH) throw new WorkspacePathError(raw, `${JSON.stringify(raw)}: empty or too long path`);
  if (trimmed.startsWith("/") || trimmed.startsWith("\\") || /^[A-Za-z]:/.test(trimmed)) {
    throw new WorkspacePathError(raw, `${JSON.stringify(raw)}: absolute paths are refused; use a path relative to the repository root`);
  }
  const segments: string[] = [];
  for (const segment of trimmed.replace(/\\/g, "/").split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") throw new WorkspacePathError(raw, `${JSON.stringify(raw)}: \`..\` segments are refused; use a path inside the repository`);
    if (segment.toLowerCase() === ".git") throw new WorkspacePathError(raw, `${JSON.stringify(raw)}: the .git directory is not part of the workspace`);
    segments.push(segment);
  }
  if (segments.length === 0) throw new WorkspacePathError(raw, `${JSON.stringify(raw)}: not a file path`);
  return segments.join("/");
}

/** A folder to list: "" for the root (`""`, `"."`, `"/"`), otherwise normalised like a file path. */
export function normalizeDir(raw: string | undefined): string {
  if (raw === undefined) return "";
  const trimmed = raw.trim();
  if (trimmed === "" || trimmed === "." || trimmed === "/" || trimmed === "./") return "";
  return normalizePath(trimmed.replace(/\/+$/, ""));
}

/** The normalised form of a path to write or delete, refused by the same rules as publishing. */
export function writablePath(raw: string, refuse: RefusePath): string {
  const path = normalizePath(raw);
  const reason = refuse(path);
  if (reason) throw new WorkspacePathError(raw, `${path}: ${reason}`);
  return path;
}

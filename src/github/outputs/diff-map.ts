/**
 * Maps review findings onto a pull request's diff. GitHub only accepts inline review comments on
 * lines that appear in a hunk of the diff: RIGHT side = added or context lines (new numbering),
 * LEFT side = deleted or context lines (old numbering). A multi-line comment must stay in one hunk.
 */

export interface FileDiff {
  path: string;
  /** Per side: line number → hunk index. */
  right: Map<number, number>;
  left: Map<number, number>;
  /** Per side: line number → text of that line (without the +/-/space prefix). */
  rightText: Map<number, string>;
  leftText: Map<number, string>;
  /** Lines the patch added (new numbering) and removed (old numbering): its changes, without context. */
  added: Set<number>;
  removed: Set<number>;
}

/**
 * Parses one file's patch (the `patch` field of `GET /pulls/{n}/files`, hunks only).
 *
 * @example
 * parsePatch("src/a.ts", "@@ -1,2 +1,3 @@\n a\n+b\n c").right.has(2) // true
 */
export function parsePatch(path: string, patch: string): FileDiff {
  const file: FileDiff = { path, right: new Map(), left: new Map(), rightText: new Map(), leftText: new Map(), added: new Set(), removed: new Set() };
  let oldLine = 0;
  let newLine = 0;
  let hunk = -1;
  for (const line of patch.replace(/\n$/, "").split("\n")) {
    const header = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(line);
    if (header) {
      hunk++;
      oldLine = Number(header[1]);
      newLine = Number(header[2]);
      continue;
    }
    if (hunk < 0 || line.startsWith("\\")) continue;
    const prefix = line[0];
    const text = line.slice(1);
    if (prefix === "+") {
      file.right.set(newLine, hunk);
      file.rightText.set(newLine, text);
      file.added.add(newLine);
      newLine++;
    } else if (prefix === "-") {
      file.left.set(oldLine, hunk);
      file.leftText.set(oldLine, text);
      file.removed.add(oldLine);
      oldLine++;
    } else if (prefix === " " || line === "") {
      file.right.set(newLine, hunk);
      file.rightText.set(newLine, text);
      file.left.set(oldLine, hunk);
      file.leftText.set(oldLine, text);
      oldLine++;
      newLine++;
    }
  }
  return file;
}

/** Parses a full unified diff (`diff --git a/… b/…` sections) into per-file maps keyed by new path. */
export function parseUnifiedDiff(diff: string): Map<string, FileDiff> {
  const files = new Map<string, FileDiff>();
  const sections = diff.split(/^diff --git /m).slice(1);
  for (const section of sections) {
    const plus = /^\+\+\+ (?:b\/)?(.+)$/m.exec(section);
    const minus = /^--- (?:a\/)?(.+)$/m.exec(section);
    const path = plus?.[1] && plus[1] !== "/dev/null" ? plus[1] : (minus?.[1] ?? "");
    const hunkStart = section.search(/^@@ /m);
    if (!path || hunkStart < 0) continue;
    files.set(path, parsePatch(path, section.slice(hunkStart)));
  }
  return files;
}

export interface Placement {
  path: string;
  line: number;
  side: "LEFT" | "RIGHT";
  startLine?: number;
}

/**
 * Where a finding can be posted inline, or undefined when its line is not part of the diff.
 * A range whose start falls outside the end line's hunk is narrowed to the end line.
 */
export function placeInDiff(
  files: Map<string, FileDiff>,
  finding: { path: string; line: number; startLine?: number; side: "LEFT" | "RIGHT" },
): Placement | undefined {
  const file = files.get(finding.path);
  if (!file) return undefined;
  const lines = finding.side === "LEFT" ? file.left : file.right;
  const hunk = lines.get(finding.line);
  if (hunk === undefined) return undefined;
  const placement: Placement = { path: finding.path, line: finding.line, side: finding.side };
  if (finding.startLine !== undefined && finding.startLine < finding.line && lines.get(finding.startLine) === hunk) {
    placement.startLine = finding.startLine;
  }
  return placement;
}

/** The text of the diff line a finding points at (used in fingerprints), or "" when unknown. */
export function lineText(files: Map<string, FileDiff>, finding: { path: string; line: number; side: "LEFT" | "RIGHT" }): string {
  const file = files.get(finding.path);
  if (!file) return "";
  return (finding.side === "LEFT" ? file.leftText : file.rightText).get(finding.line) ?? "";
}

/**
 * Whether a push's diff (`sinceSha..head`, e.g. from the compare API) changed the lines a finding
 * points at. RIGHT side: a line of the finding's range was added by the push (both diffs number the
 * head's lines alike). LEFT side (a line the pull request deletes, in the base's numbering): the push
 * removed a line with the same text (`text`, the line's text in the pull request's diff).
 *
 * @example
 * changedByPush(parseUnifiedDiff(pushDiff), { path: "a.ts", line: 3, side: "RIGHT" }, "") // true when the push added line 3
 */
export function changedByPush(
  pushed: Map<string, FileDiff>,
  finding: { path: string; line: number; startLine?: number; side: "LEFT" | "RIGHT" },
  text: string,
): boolean {
  const file = pushed.get(finding.path);
  if (!file) return false;
  if (finding.side === "LEFT") return text.trim() !== "" && [...file.removed].some((n) => file.leftText.get(n) === text);
  for (let n = Math.min(finding.startLine ?? finding.line, finding.line); n <= finding.line; n++) if (file.added.has(n)) return true;
  return false;
}

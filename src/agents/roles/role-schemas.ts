/**
 * zod schemas of the roles' structured outputs. They are flat (nullable instead of optional, no
 * unions of objects) so every provider's strict structured-output mode accepts them; the results
 * are converted to the domain types `FileEdit` and `Finding`.
 */
import { z } from "zod";
import type { Finding } from "../../workflows/types.ts";

export const editSchema = z.object({
  kind: z.enum(["create", "modify", "delete"]).describe("create a new file, modify an existing one with search/replace blocks, or delete one"),
  path: z.string().describe("repository-relative path, e.g. src/app.ts"),
  content: z.string().nullable().describe("full content for create, or the whole new content for modify without blocks; null otherwise"),
  blocks: z
    .array(
      z.object({
        search: z.string().describe("exact text currently in the file, long enough to occur exactly once"),
        replace: z.string().describe("the text that replaces it"),
      }),
    )
    .nullable()
    .describe("search/replace blocks for modify; null otherwise"),
});

export const editsResultSchema = z.object({
  summary: z.string().describe("what was changed and why, for the pull request description"),
  edits: z.array(editSchema),
});

export const findingSchema = z.object({
  path: z.string(),
  line: z.number().int().positive().describe("line the comment is attached to (last line of a range)"),
  startLine: z.number().int().positive().nullable().describe("first line of a multi-line range, or null"),
  side: z.enum(["LEFT", "RIGHT"]).describe("RIGHT for added/unchanged lines of the new version, LEFT for removed lines"),
  severity: z.enum(["info", "minor", "major", "critical"]),
  body: z.string().describe("the review comment"),
  suggestion: z.string().nullable().describe("replacement text for the line range, or null"),
});

export const findingsResultSchema = z.object({
  summary: z.string().describe("overall assessment of the change"),
  findings: z.array(findingSchema),
});

export type EditsResult = z.infer<typeof editsResultSchema>;
export type FindingsResult = z.infer<typeof findingsResultSchema>;

/** Converts schema findings into `Finding`s (dropping nulls, fixing an inverted range). */
export function toFindings(raw: FindingsResult["findings"]): Finding[] {
  return raw.map((f) => {
    const finding: Finding = { path: f.path.replace(/^\.?\//, ""), line: f.line, side: f.side, severity: f.severity, body: f.body };
    if (f.startLine !== null && f.startLine !== f.line) {
      finding.startLine = Math.min(f.startLine, f.line);
      finding.line = Math.max(f.startLine, f.line);
    }
    if (f.suggestion !== null) finding.suggestion = f.suggestion;
    return finding;
  });
}

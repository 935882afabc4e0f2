/**
 * The read-only workspace tools: `list_files`, `read_file` (with line numbers) and `search` (a
 * regular expression over the files of the view). They see only the step's workspace view.
 */
import { z } from "zod";
import { WorkspacePathError } from "../../errors/workspace-path-error.ts";
import { normalizeWorkspaceDir, normalizeWorkspacePath } from "./workspace-path.ts";
import { toolError, type WorkspaceTool } from "./workspace-tool.ts";

/** Most paths `list_files` returns in one answer. */
const MAX_LISTED = 400;
/** Most hits `search` returns. */
const MAX_HITS = 100;
/** Characters of a matching line shown. */
const HIT_CHARS = 200;
/** Longest regex accepted. */
const MAX_PATTERN_CHARS = 300;

export const listFilesTool: WorkspaceTool<{ dir: string; glob?: string | undefined }> = {
  name: "list_files",
  description: `List the files under a directory of the repository (recursively), optionally filtered by a glob such as "**/*.ts". Use "" for the repository root. At most ${MAX_LISTED} paths are returned.`,
  inputSchema: z.object({
    dir: z.string().describe('directory relative to the repository root; "" for the root'),
    glob: z.string().optional().describe('optional glob relative to the repository root, e.g. "src/**/*.test.ts"'),
  }),
  edits: false,
  async run(input, { view }) {
    const label = `list ${input.dir || "/"}${input.glob ? ` ${input.glob}` : ""}`;
    let dir: string;
    try {
      dir = normalizeWorkspaceDir(input.dir);
    } catch (error) {
      return pathError(label, error);
    }
    const paths = await view.listFiles(dir || undefined, input.glob || undefined);
    if (paths.length === 0) return { output: `No files under "${dir || "/"}"${input.glob ? ` matching ${input.glob}` : ""}.`, isError: false, label: `${label}: 0 files` };
    const shown = paths.slice(0, MAX_LISTED);
    const more = paths.length - shown.length;
    const lines = [`${paths.length} file${paths.length === 1 ? "" : "s"} under "${dir || "/"}"${input.glob ? ` matching ${input.glob}` : ""}:`, ...shown];
    if (more > 0) lines.push(`… and ${more} more: narrow the directory or add a glob.`);
    return { output: lines.join("\n"), isError: false, label: `${label}: ${paths.length} files` };
  },
};

export const readFileTool: WorkspaceTool<{ path: string; from?: number | undefined; to?: number | undefined }> = {
  name: "read_file",
  description:
    "Read a file of the repository as it is in this step's workspace (including edits made so far). Lines are numbered as `<n>| `; the numbers are not part of the file. Give `from`/`to` (1-based, inclusive) to read part of a long file.",
  inputSchema: z.object({
    path: z.string().describe("file path relative to the repository root"),
    from: z.number().int().optional().describe("first line to read (1-based); default 1"),
    to: z.number().int().optional().describe("last line to read (inclusive); default the end of the file"),
  }),
  edits: false,
  async run(input, { view }) {
    let path: string;
    try {
      path = normalizeWorkspacePath(input.path, "read");
    } catch (error) {
      return pathError(`read ${input.path}`, error);
    }
    const content = await view.readFile(path);
    if (content === undefined) return toolError(`read ${path}`, `File missing: ${path} does not exist in the workspace. Use list_files or search to find the right path.`, [path]);
    const lines = splitLines(content);
    const total = lines.length;
    if (total === 0) return { output: `${path} is empty (0 lines).`, isError: false, label: `read ${path} (empty)`, paths: [path] };
    const from = Math.max(1, Math.min(input.from ?? 1, total));
    const to = Math.max(from, Math.min(input.to ?? total, total));
    const width = String(to).length;
    const body = lines.slice(from - 1, to).map((line, i) => `${String(from + i).padStart(width)}| ${line}`);
    const header = from === 1 && to === total ? `${path} (${total} line${total === 1 ? "" : "s"}):` : `${path} lines ${from}–${to} of ${total}:`;
    return { output: [header, ...body].join("\n"), isError: false, label: `read ${path} ${from}–${to}`, paths: [path] };
  },
};

export const searchTool: WorkspaceTool<{ regex: string; glob?: string | undefined }> = {
  name: "search",
  description: `Search the repository's files for a JavaScript regular expression (case-sensitive: write [Aa] to match either case). Returns up to ${MAX_HITS} matching lines as path:line: text. Narrow with a glob such as "src/**/*.ts".`,
  inputSchema: z.object({
    regex: z.string().describe("JavaScript regular expression, e.g. lowStock\\\\(|function\\\\s+lowStock"),
    glob: z.string().optional().describe('optional glob of the files to search, e.g. "**/*.{ts,tsx}"'),
  }),
  edits: false,
  async run(input, { view }) {
    const short = input.regex.length > 60 ? `${input.regex.slice(0, 57)}…` : input.regex;
    const label = `search ${short}${input.glob ? ` in ${input.glob}` : ""}`;
    if (input.regex === "") return toolError(label, "The regular expression is empty.");
    if (input.regex.length > MAX_PATTERN_CHARS) return toolError(label, `The regular expression is longer than ${MAX_PATTERN_CHARS} characters; search for a shorter, distinctive part.`);
    if (hasNestedQuantifier(input.regex)) return toolError(label, "The regular expression nests quantifiers (like (a+)+), which can take exponential time; simplify it.");
    let pattern: RegExp;
    try {
      pattern = new RegExp(input.regex);
    } catch (error) {
      return toolError(label, `Not a valid JavaScript regular expression: ${error instanceof Error ? error.message : String(error)}`);
    }
    const hits = await view.search(pattern, { ...(input.glob ? { glob: input.glob } : {}), limit: MAX_HITS + 1 });
    const shown = hits.slice(0, MAX_HITS);
    const lazy = view.mode === "lazy" ? "\nNote: the workspace is in lazy mode (no repository snapshot): only files already read were searched. Use list_files and read_file to look further." : "";
    if (shown.length === 0) return { output: `No matches for /${input.regex}/${input.glob ? ` in ${input.glob}` : ""}.${lazy}`, isError: false, label: `${label}: 0 hits` };
    const lines = shown.map((h) => `${h.path}:${h.line}: ${h.text.length > HIT_CHARS ? `${h.text.slice(0, HIT_CHARS)}…` : h.text}`);
    const more = hits.length > MAX_HITS ? `\n(more than ${MAX_HITS} hits: narrow the pattern or the glob)` : "";
    const count = hits.length > MAX_HITS ? `${MAX_HITS}+` : String(shown.length);
    return { output: `${count} hit${shown.length === 1 ? "" : "s"} for /${input.regex}/:\n${lines.join("\n")}${more}${lazy}`, isError: false, label: `${label}: ${count} hit${shown.length === 1 ? "" : "s"}`, paths: [...new Set(shown.map((h) => h.path))] };
  },
};

/** The lines of a file (a final newline does not start another line). */
export function splitLines(content: string): string[] {
  if (content === "") return [];
  const lines = content.split(/\r?\n/);
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** A group that is quantified and contains a quantifier: `(a+)+`, `(\w*)*`, `(x{2,})+`. */
function hasNestedQuantifier(source: string): boolean {
  return /\((?:[^()\\]|\\.)*(?:[+*]|\{\d+,\d*\})\)(?:[+*]|\{\d+,\d*\})/.test(source);
}

function pathError(label: string, error: unknown) {
  if (error instanceof WorkspacePathError) return toolError(label, `Path refused: ${error.message}`);
  throw error;
}

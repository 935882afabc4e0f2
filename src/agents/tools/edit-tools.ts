/**
 * The editing workspace tools: `edit_file` (one exact search/replace), `write_file` (create or
 * replace a whole file) and `delete_file`. Each applies at once to the step's own layer and answers
 * with what changed, or with a precise error (search text not found / found twice, path refused,
 * file missing) so the model can correct itself in the next round.
 */
import { z } from "zod";
import { WorkspacePathError } from "../../errors/workspace-path-error.ts";
import { splitLines } from "./read-tools.ts";
import { normalizeWorkspacePath } from "./workspace-path.ts";
import { toolError, type ToolAnswer, type WorkspaceTool } from "./workspace-tool.ts";

/** Largest file content a tool writes (bytes of UTF-8). */
export const MAX_FILE_BYTES = 1_000_000;

export const editFileTool: WorkspaceTool<{ path: string; search: string; replace: string }> = {
  name: "edit_file",
  description:
    "Replace one exact piece of text in an existing file. `search` must be copied exactly from the current file (without the line-number prefixes of read_file) and occur exactly once; include a few surrounding lines to make it unique. Use write_file to create a file.",
  inputSchema: z.object({
    path: z.string().describe("file path relative to the repository root"),
    search: z.string().describe("exact text currently in the file, occurring exactly once"),
    replace: z.string().describe("the text that replaces it"),
  }),
  edits: true,
  async run(input, { view }) {
    let path: string;
    try {
      path = normalizeWorkspacePath(input.path, "write");
    } catch (error) {
      return refused(`edit ${input.path}`, error);
    }
    const label = `edit ${path}`;
    const current = await view.readFile(path);
    if (current === undefined) return toolError(label, `File missing: ${path} does not exist in the workspace; use write_file to create it.`, [path]);
    const result = replaceOnce(current, input.search, input.replace, path);
    if (!result.ok) return toolError(label, result.error, [path]);
    const size = Buffer.byteLength(result.content, "utf8");
    if (size > MAX_FILE_BYTES) return toolError(label, `The edit would make ${path} ${size} bytes, more than the ${MAX_FILE_BYTES} allowed.`, [path]);
    await view.writeFile(path, result.content);
    const firstLine = current.slice(0, result.index).split("\n").length;
    const replaced = Math.max(1, splitLines(input.replace).length);
    return {
      output: `Edited ${path}: replaced ${splitLines(input.search).length || 1} line(s) at line ${firstLine} with ${replaced} line(s); the file now has ${splitLines(result.content).length} lines.`,
      isError: false,
      label: `${label} line ${firstLine}`,
      paths: [path],
    };
  },
};

export const writeFileTool: WorkspaceTool<{ path: string; content: string }> = {
  name: "write_file",
  description: "Create a file, or replace the whole content of an existing one. Prefer edit_file for small changes to existing files.",
  inputSchema: z.object({
    path: z.string().describe("file path relative to the repository root"),
    content: z.string().describe("the complete new content of the file"),
  }),
  edits: true,
  async run(input, { view }) {
    let path: string;
    try {
      path = normalizeWorkspacePath(input.path, "write");
    } catch (error) {
      return refused(`write ${input.path}`, error);
    }
    const label = `write ${path}`;
    const size = Buffer.byteLength(input.content, "utf8");
    if (size > MAX_FILE_BYTES) return toolError(label, `The content is ${size} bytes, more than the ${MAX_FILE_BYTES} allowed for one file.`, [path]);
    const existed = (await view.readFile(path)) !== undefined;
    await view.writeFile(path, input.content);
    const lines = splitLines(input.content).length;
    return { output: `${existed ? "Replaced" : "Created"} ${path} (${lines} line${lines === 1 ? "" : "s"}).`, isError: false, label: `${label} (${lines} lines)`, paths: [path] };
  },
};

export const deleteFileTool: WorkspaceTool<{ path: string }> = {
  name: "delete_file",
  description: "Delete a file of the repository.",
  inputSchema: z.object({ path: z.string().describe("file path relative to the repository root") }),
  edits: true,
  async run(input, { view }) {
    let path: string;
    try {
      path = normalizeWorkspacePath(input.path, "write");
    } catch (error) {
      return refused(`delete ${input.path}`, error);
    }
    const label = `delete ${path}`;
    if ((await view.readFile(path)) === undefined) return toolError(label, `File missing: ${path} does not exist in the workspace, so there is nothing to delete.`, [path]);
    await view.deleteFile(path);
    return { output: `Deleted ${path}.`, isError: false, label, paths: [path] };
  },
};

/**
 * Replaces the single occurrence of `search` in `content`, or says precisely why not.
 *
 * @example
 * replaceOnce("a b a", "a", "c", "x.txt"); // { ok: false, error: "…found 2 times…" }
 */
export function replaceOnce(content: string, search: string, replace: string, path: string): { ok: true; content: string; index: number } | { ok: false; error: string } {
  if (search === "") return { ok: false, error: `The search text is empty; copy the exact text to replace from ${path}.` };
  const index = content.indexOf(search);
  if (index === -1) {
    const hint = nearestLine(content, search);
    return {
      ok: false,
      error: `Search text not found in ${path}. Copy it exactly from the current file (read_file shows it; leave out the line-number prefixes).${hint ? ` A similar line is line ${hint.line}: ${JSON.stringify(hint.text.slice(0, 200))}` : ""}`,
    };
  }
  const second = content.indexOf(search, index + 1);
  if (second !== -1) {
    let count = 2;
    for (let i = content.indexOf(search, second + 1); i !== -1 && count < 1000; i = content.indexOf(search, i + 1)) count += 1;
    const lineOf = (at: number) => content.slice(0, at).split("\n").length;
    return { ok: false, error: `Search text found ${count} times in ${path} (first at lines ${lineOf(index)} and ${lineOf(second)}); include more surrounding lines so it occurs exactly once.` };
  }
  return { ok: true, content: content.slice(0, index) + replace + content.slice(index + search.length), index };
}

/** The line of `content` that contains the first non-blank line of `search` (trimmed), if any. */
function nearestLine(content: string, search: string): { line: number; text: string } | undefined {
  const probe = search.split("\n").map((l) => l.trim()).find((l) => l.length >= 3);
  if (!probe) return undefined;
  const lines = content.split("\n");
  const at = lines.findIndex((l) => l.includes(probe));
  return at === -1 ? undefined : { line: at + 1, text: lines[at] ?? "" };
}

function refused(label: string, error: unknown): ToolAnswer {
  if (error instanceof WorkspacePathError) return toolError(label, `Path refused: ${error.message}`);
  throw error;
}

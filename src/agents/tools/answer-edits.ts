/**
 * Applies the `edits` of a role's final answer (the flat schema of `role-schemas.ts`) to the step's
 * layer, all or nothing. Every shape the schema allows either applies or is refused with a line
 * naming the path and what to change:
 * - `create` with `content` → a new file (an existing file is refused: use `modify`);
 * - `modify` with `blocks` → each block replaced exactly once, in order;
 * - `modify` with `content` and no blocks → the whole file replaced;
 * - `delete` → the file removed (it must exist);
 * and contradictory answers (`content` and `blocks` both given, `create` without `content` …) are
 * named rather than guessed at.
 */
import { WorkspacePathError } from "../../errors/workspace-path-error.ts";
import type { WorkspaceView } from "../../workspace/workspace-view.ts";
import type { EditsResult } from "../roles/role-schemas.ts";
import { MAX_FILE_BYTES, replaceOnce } from "./edit-tools.ts";
import { normalizeWorkspacePath } from "./workspace-path.ts";

export interface AnswerEditsResult {
  /** Paths written or deleted (empty when there were problems: nothing is applied then). */
  applied: string[];
  /** One line per problem. */
  problems: string[];
}

/**
 * Checks every edit against the view (in order, so later edits see earlier ones), then applies them
 * only when all are fine.
 *
 * @example
 * const { problems } = await applyAnswerEdits(view, answer.edits);
 * if (problems.length > 0) tellTheModel(problems);
 */
export async function applyAnswerEdits(view: WorkspaceView, edits: EditsResult["edits"]): Promise<AnswerEditsResult> {
  const staged = new Map<string, string | null>();
  const problems: string[] = [];
  const current = async (path: string) => (staged.has(path) ? (staged.get(path) ?? undefined) : view.readFile(path));
  for (const [index, edit] of edits.entries()) {
    const label = `edit ${index + 1} (${edit.kind} ${JSON.stringify(edit.path.slice(0, 200))})`;
    let path: string;
    try {
      path = normalizeWorkspacePath(edit.path, "write");
    } catch (error) {
      if (!(error instanceof WorkspacePathError)) throw error;
      problems.push(`${label}: path refused: ${error.message}`);
      continue;
    }
    const blocks = edit.blocks ?? [];
    const before = await current(path);
    if (edit.kind === "delete") {
      if (edit.content || blocks.length > 0) problems.push(`${label}: "delete" takes no content and no blocks; to change the file use "modify"`);
      else if (before === undefined) problems.push(`${label}: cannot delete ${path}: the file does not exist`);
      else staged.set(path, null);
      continue;
    }
    if (edit.kind === "create") {
      if (edit.content === null) problems.push(`${label}: "create" needs the full file content in "content"`);
      else if (blocks.length > 0) problems.push(`${label}: "create" takes "content" only; blocks are for "modify"`);
      else if (before !== undefined) problems.push(`${label}: ${path} already exists; use "modify" (with blocks, or with the whole new content)`);
      else stage(path, edit.content, label);
      continue;
    }
    // modify
    if (before === undefined) {
      problems.push(`${label}: cannot modify ${path}: the file does not exist; use "create"`);
      continue;
    }
    if (blocks.length > 0 && edit.content !== null) {
      problems.push(`${label}: give either "blocks" (search/replace) or the whole new "content", not both`);
      continue;
    }
    if (blocks.length === 0) {
      if (edit.content === null) problems.push(`${label}: "modify" needs search/replace "blocks" or the whole new "content"`);
      else stage(path, edit.content, label);
      continue;
    }
    let content = before;
    let ok = true;
    for (const [b, block] of blocks.entries()) {
      const replaced = replaceOnce(content, block.search, block.replace, path);
      if (!replaced.ok) {
        problems.push(`${label} block ${b + 1}: ${replaced.error}`);
        ok = false;
        break;
      }
      content = replaced.content;
    }
    if (ok) stage(path, content, label);
  }
  if (problems.length > 0) return { applied: [], problems };
  for (const [path, content] of staged) {
    if (content !== null) await view.writeFile(path, content);
    // created and deleted within the same answer: nothing to delete in the view
    else if ((await view.readFile(path)) !== undefined) await view.deleteFile(path);
  }
  return { applied: [...staged.keys()], problems };

  function stage(path: string, content: string, label: string) {
    const size = Buffer.byteLength(content, "utf8");
    if (size > MAX_FILE_BYTES) problems.push(`${label}: ${size} bytes, more than the ${MAX_FILE_BYTES} allowed for one file`);
    else staged.set(path, content);
  }
}

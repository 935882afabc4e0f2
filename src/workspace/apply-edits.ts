/**
 * Applies a step's structured `FileEdit`s (create / modify with search-replace blocks / delete) to a
 * file overlay. Used to turn an answer given as edits into the step's layer, against the step's own
 * view, once: never against a moving branch at publish time.
 */
import { WorkspacePathError } from "../errors/workspace-path-error.ts";
import type { FileChange, FileEdit } from "../workflows/types.ts";
import { writablePath, type RefusePath } from "./workspace-paths.ts";

/** Reads a file as the step saw it before its own edits: its text, or undefined when absent. */
export type ReadBefore = (path: string) => Promise<string | undefined>;

/**
 * @returns the resulting layer (sorted by path) and one problem per edit that could not be applied
 *
 * @example
 * const { changes, problems } = await applyEdits(edits, (p) => view.readFile(p), refusePath);
 */
export async function applyEdits(edits: readonly FileEdit[], readBefore: ReadBefore, refuse: RefusePath): Promise<{ changes: FileChange[]; problems: string[] }> {
  const layer = new Map<string, string | null>();
  const problems: string[] = [];
  const current = async (path: string) => (layer.has(path) ? (layer.get(path) ?? undefined) : await readBefore(path));
  for (const edit of edits) {
    let path: string;
    try {
      path = writablePath(edit.path, refuse);
    } catch (error) {
      problems.push(error instanceof WorkspacePathError ? error.message : String(error));
      continue;
    }
    if (edit.kind === "create") {
      layer.set(path, edit.content);
      continue;
    }
    const content = await current(path);
    if (content === undefined) {
      problems.push(`${path}: cannot ${edit.kind} a file that does not exist`);
      continue;
    }
    if (edit.kind === "delete") {
      layer.set(path, null);
      continue;
    }
    const applied = replaceBlocks(content, edit.blocks);
    if (typeof applied === "string") layer.set(path, applied);
    else problems.push(`${path}: ${applied.problem}`);
  }
  return { changes: [...layer].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([path, content]) => ({ path, content })), problems };
}

/**
 * Applies search/replace blocks in order; each search text must occur exactly once (an empty search
 * appends). Returns the new content or the first problem.
 */
export function replaceBlocks(content: string, blocks: readonly { search: string; replace: string }[]): string | { problem: string } {
  let out = content;
  for (const [index, block] of blocks.entries()) {
    if (block.search === "") {
      out += block.replace;
      continue;
    }
    const at = out.indexOf(block.search);
    if (at < 0) return { problem: `block ${index + 1}: the search text was not found (${JSON.stringify(block.search.slice(0, 60))})` };
    if (out.indexOf(block.search, at + 1) >= 0) return { problem: `block ${index + 1}: the search text occurs more than once; include more lines to make it unique` };
    out = out.slice(0, at) + block.replace + out.slice(at + block.search.length);
  }
  return out;
}

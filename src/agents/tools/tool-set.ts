/**
 * The tools a role gets and the execution of one model tool call: unknown tools, input that does
 * not match the schema and refused paths all come back to the model as tool errors; every answer is
 * capped in size and fenced as untrusted data. No tool executes repository code.
 */
import { WorkspacePathError } from "../../errors/workspace-path-error.ts";
import type { ModelTool, ToolCallRecord, ToolResultRecord } from "../model-provider.ts";
import type { RoleResult } from "../roles/builtin-roles.ts";
import { fenceUntrusted } from "../../workflows/untrusted-text.ts";
import { deleteFileTool, editFileTool, writeFileTool } from "./edit-tools.ts";
import { listFilesTool, readFileTool, searchTool } from "./read-tools.ts";
import type { ToolContext, WorkspaceTool } from "./workspace-tool.ts";

export const READ_TOOLS: readonly WorkspaceTool[] = [listFilesTool, readFileTool, searchTool] as WorkspaceTool[];
export const EDIT_TOOLS: readonly WorkspaceTool[] = [editFileTool, writeFileTool, deleteFileTool] as WorkspaceTool[];

/** Roles that produce edits get the editing tools too; reviews and text answers only read. */
export function toolsFor(result: RoleResult): Map<string, WorkspaceTool> {
  const tools = result === "edits" ? [...READ_TOOLS, ...EDIT_TOOLS] : [...READ_TOOLS];
  return new Map(tools.map((t) => [t.name, t]));
}

/** The tools as declared to the model (executed by the loop, not by the SDK). */
export function declareTools(tools: Map<string, WorkspaceTool>): Record<string, ModelTool> {
  const out: Record<string, ModelTool> = {};
  for (const [name, t] of tools) out[name] = { description: t.description, inputSchema: t.inputSchema };
  return out;
}

export interface ExecutedCall {
  result: ToolResultRecord;
  label: string;
  paths: string[];
}

/**
 * Runs one tool call against the view. Throws only for failures of the workspace itself (e.g. a
 * GitHub read that failed); everything the model got wrong is answered as a tool error.
 */
export async function executeToolCall(call: ToolCallRecord, tools: Map<string, WorkspaceTool>, ctx: ToolContext, maxResultBytes: number): Promise<ExecutedCall> {
  const answer = (output: string, isError: boolean, label: string, paths: string[] = []): ExecutedCall => ({
    result: { id: call.id, name: call.name, output: fenceUntrusted(`${call.name} ${isError ? "error" : "result"}`, capBytes(output, maxResultBytes)), isError },
    label,
    paths,
  });
  const tool = tools.get(call.name);
  if (!tool) return answer(`Unknown tool "${call.name}". Available tools: ${[...tools.keys()].join(", ")}.`, true, `${call.name.slice(0, 40)} ✗ unknown tool`);
  if (call.error !== undefined) return answer(`Invalid input for ${call.name}: ${call.error.slice(0, 1_000)}`, true, `${call.name} ✗ invalid input`);
  const parsed = tool.inputSchema.safeParse(call.input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(input)"}: ${i.message}`).join("; ");
    return answer(`Invalid input for ${call.name}: ${problems.slice(0, 1_000)}`, true, `${call.name} ✗ invalid input`);
  }
  try {
    const done = await tool.run(parsed.data, ctx);
    return answer(done.output, done.isError, done.label, done.paths ?? []);
  } catch (error) {
    // the view enforces the path rules too; its refusal is the model's to fix
    if (error instanceof WorkspacePathError) return answer(`Path refused: ${error.message}`, true, `${call.name} ✗ path refused`);
    throw error;
  }
}

/** `text` cut to at most `maxBytes` of UTF-8, with a note saying how much was left out. */
export function capBytes(text: string, maxBytes: number): string {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes <= maxBytes) return text;
  const note = `\n… [cut: ${bytes} bytes in all, the first ≈ ${maxBytes} shown; ask for less, e.g. read_file with from/to]`;
  let cut = Buffer.from(text, "utf8").subarray(0, Math.max(0, maxBytes - Buffer.byteLength(note))).toString("utf8");
  // a cut inside a multi-byte character decodes to U+FFFD; drop it
  if (cut.endsWith("\uFFFD")) cut = cut.slice(0, -1);
  return cut + note;
}

/**
 * The shape every workspace tool has: a name the model calls, a zod input schema, and `run`, which
 * answers with text for the model (a result, or an error the model can act on) and a short label
 * for the live progress tail ("read src/app.ts 1–80", "search lowStock: 3 hits").
 */
import type { z } from "zod";
import type { WorkspaceView } from "../../workspace/workspace-view.ts";

export interface ToolContext {
  view: WorkspaceView;
}

export interface ToolAnswer {
  /** Text for the model (fenced and size-capped by the caller). */
  output: string;
  /** The call did not do what was asked; `output` says why and how to correct it. */
  isError: boolean;
  /** One short line for the progress tail. */
  label: string;
  /** Repository paths this call looked at or changed (for nested instructions). */
  paths?: string[];
}

export interface WorkspaceTool<I = unknown> {
  name: string;
  description: string;
  inputSchema: z.ZodType<I>;
  /** True for tools that change the step's layer. */
  edits: boolean;
  run(input: I, ctx: ToolContext): Promise<ToolAnswer>;
}

/** A tool error answer. */
export function toolError(label: string, output: string, paths?: string[]): ToolAnswer {
  return { output, isError: true, label: `${label} ✗`, ...(paths ? { paths } : {}) };
}

/**
 * Runs one step with a chat-model role: the opening brief (thread, diff of the workspace, tree,
 * relevant files) → the bounded tool loop over the step's workspace view → StepOutput with the
 * step's layer as its edits, the rounds used and the repository instruction files applied.
 */
import type { AgentRequest, ConversationMessage, RepoReader } from "../workflows/ports.ts";
import type { FileEdit, StepOutput, Usage } from "../workflows/types.ts";
import type { FileChange, WorkspaceView } from "../workspace/workspace-view.ts";
import { buildContext, splitDiff, type ContextFocus } from "./context-builder.ts";
import { toChatMessages } from "./conversation-history.ts";
import type { ModelCallContext } from "./model-call.ts";
import type { ChatMessage } from "./model-provider.ts";
import type { RepositoryInstructions } from "./repository-instructions.ts";
import type { RoleDefinition } from "./roles/builtin-roles.ts";
import { toFindings } from "./roles/role-schemas.ts";
import { runToolLoop, type ToolLimits } from "./tool-loop.ts";
import { estimateTokens, fenceUntrusted, UNTRUSTED_DATA_INSTRUCTION } from "../workflows/untrusted-text.ts";

export interface RoleStepInput {
  request: AgentRequest;
  role: RoleDefinition;
  model: string;
  reader: RepoReader;
  view: WorkspaceView;
  /** Instruction files of the repository (default branch); absent when turned off. */
  instructions?: RepositoryInstructions;
  history: ConversationMessage[];
  historyDropped: number;
  budgets: { contextTokens: number; maxOutputTokens: number; maxStepCostUsd?: number };
  limits: ToolLimits;
  /** Cost of a usage at this model's price (0 when unpriced). */
  costOf: (usage: Usage) => number;
  call: ModelCallContext;
}

export interface RoleStepResult {
  output: Omit<StepOutput, "costUsd" | "model">;
}

const TOOL_RULES = {
  edits:
    "Work in rounds with the tools: find the code with search and list_files, read it with read_file, and change it with edit_file, write_file and delete_file. " +
    "Every edit applies at once to this step's workspace; a tool answers with an error when something is wrong (search text not found or found twice, path refused, file missing): correct it and go on. " +
    'When the change is complete, answer with JSON: "summary" for the pull request description and "edits": [] (your tool edits are already applied; list there only changes you did not make with the tools).',
  findings:
    "Use the tools (search, list_files, read_file) to read the code around the change before you judge it. When done, answer with JSON: a summary and the findings.",
  text: "Use the tools (search, list_files, read_file) to look at the code you talk about. When done, answer in GitHub-flavoured Markdown.",
} as const;

/** Executes the role; usage covers every round. */
export async function runRoleStep(input: RoleStepInput): Promise<RoleStepResult> {
  const { request, role, view } = input;
  const focus: ContextFocus = role.result;
  const workspaceDiff = await view.diff();
  const context = await buildContext({ trigger: request.trigger, reader: viewAsReader(view, input.reader), focus, budgetTokens: input.budgets.contextTokens, hints: request.prompt, maxFiles: 4 });
  const changeSection = workspaceSection(workspaceDiff, Math.floor(input.budgets.contextTokens * (role.result === "findings" ? 0.5 : 0.25)), request);
  const inPlay = new Set<string>([...context.files, ...splitDiff(workspaceDiff).map((f) => f.path)]);
  const instructions = input.instructions;
  const system = () =>
    [
      role.systemPrompt,
      TOOL_RULES[role.result],
      UNTRUSTED_DATA_INSTRUCTION,
      input.history.length > 0 ? "Earlier messages of this thread's conversation come first; the last message is the current task." : "",
      view.notice || view.mode === "lazy" ? `The workspace is incomplete: ${view.notice ?? "there is no snapshot of the repository, so search only covers files already read"}. Use list_files and read_file to look further.` : "",
      instructions?.promptFor([...inPlay]) ?? "",
    ]
      .filter(Boolean)
      .join("\n\n");
  const user = [context.text, changeSection, upstreamSection(request), input.historyDropped > 0 ? `(${input.historyDropped} older conversation messages left out)` : "", `## Task\n${request.prompt}`]
    .filter(Boolean)
    .join("\n\n");
  const messages: ChatMessage[] = [...toChatMessages(input.history), { role: "user", content: user }];

  const loop = await runToolLoop({
    roleName: role.name,
    result: role.result,
    model: input.model,
    system,
    messages,
    view,
    limits: input.limits,
    maxOutputTokens: input.budgets.maxOutputTokens,
    ...(input.budgets.maxStepCostUsd === undefined ? {} : { maxStepCostUsd: input.budgets.maxStepCostUsd }),
    costOf: input.costOf,
    call: input.call,
    signal: request.signal,
    onPaths: (paths) => {
      if (!instructions) return undefined;
      const before = new Set(instructions.filesFor([...inPlay]));
      for (const p of paths) inPlay.add(p);
      const added = instructions.filesFor([...inPlay]).filter((f) => !before.has(f));
      return added.length > 0 ? `Repository instructions now apply to the files you work on: ${added.join(", ")}. They are in your system prompt; follow them.` : undefined;
    },
  });

  const data: Record<string, unknown> = { toolRounds: loop.rounds, toolCalls: loop.toolCalls, workspace: view.mode };
  if (context.omitted.length > 0) data["leftOut"] = context.omitted;
  const used = instructions?.filesFor([...inPlay]) ?? [];
  if (used.length > 0) data["instructions"] = used;
  if (view.notice) data["workspaceNotice"] = view.notice;
  const output: RoleStepResult["output"] = { text: loop.text, usage: loop.usage, data };
  if (role.result === "findings") output.findings = toFindings(loop.findings ?? []);
  const changes = view.changes();
  if (role.result === "edits" || changes.length > 0) {
    output.changes = changes;
    output.edits = changesToEdits(changes);
  }
  return { output };
}

/**
 * The step's layer as `FileEdit`s with full contents (`create` = write this content, whether the
 * file existed or not; `delete`), the form publishing and downstream steps read.
 */
export function changesToEdits(changes: readonly FileChange[]): FileEdit[] {
  return changes.map((c): FileEdit => (c.content === null ? { kind: "delete", path: c.path } : { kind: "create", path: c.path, content: c.content }));
}

/** The view as the context builder's reader: tree and files from the workspace, thread and PR diff from GitHub. */
function viewAsReader(view: WorkspaceView, reader: RepoReader): RepoReader {
  return {
    listFiles: async () => ({ paths: await view.listFiles(), truncated: false }),
    readFile: (path) => view.readFile(path),
    pullRequestDiff: (number, options) => reader.pullRequestDiff(number, options),
    thread: (number) => reader.thread(number),
  };
}

/** The changes of the upstream steps as a unified diff against the base, clipped to `budgetTokens`. */
function workspaceSection(diff: string, budgetTokens: number, request: AgentRequest): string {
  if (diff === "") return "";
  const files = splitDiff(diff);
  const kept: string[] = [];
  const left: string[] = [];
  let remaining = budgetTokens;
  for (const file of files) {
    const cost = estimateTokens(file.text) + 20;
    if (cost <= remaining) {
      kept.push(fenceUntrusted(`workspace diff of ${file.path}`, file.text));
      remaining -= cost;
    } else left.push(file.path);
  }
  const steps = Object.keys(request.upstream).join(", ");
  const header = `## Changes made by earlier steps of this run${steps ? ` (${steps})` : ""}: ${files.length} file${files.length === 1 ? "" : "s"}, as a diff against the base`;
  const note = left.length > 0 ? `\n(${left.length} more changed file${left.length === 1 ? "" : "s"} not shown: ${left.slice(0, 20).join(", ")}; read them with read_file)` : "";
  return `${header}\n${kept.join("\n")}${note}`;
}

function upstreamSection(request: AgentRequest): string {
  const entries = Object.entries(request.upstream);
  if (entries.length === 0) return "";
  const parts = ["## Results of earlier steps"];
  for (const [id, output] of entries) {
    const details: string[] = [output.text.slice(0, 4_000)];
    if (output.edits?.length) details.push(`Edited files: ${output.edits.map((e) => `${e.kind === "create" ? "write" : e.kind} ${e.path}`).join(", ")}`);
    if (output.findings?.length) details.push(`Findings: ${output.findings.map((f) => `${f.severity} ${f.path}:${f.line} ${f.body.slice(0, 200)}`).join("\n")}`);
    parts.push(fenceUntrusted(`output of step ${id}`, details.join("\n")));
  }
  return parts.join("\n");
}

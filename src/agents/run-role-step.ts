/**
 * Runs one step with a chat-model role: context → prompt → model call (structured for edits and
 * findings) → validation (with one repair round for edits that do not apply) → StepOutput.
 */
import { BudgetExceededError } from "../errors/budget-exceeded-error.ts";
import { NonRetriableError } from "../errors/non-retriable-error.ts";
import type { AgentRequest, RepoReader } from "../workflows/ports.ts";
import type { FileEdit, StepOutput, Usage } from "../workflows/types.ts";
import { buildContext, type ContextFocus } from "./context-builder.ts";
import { toChatMessages } from "./conversation-history.ts";
import { callModel, type ModelCallContext } from "./model-call.ts";
import type { ChatMessage, ModelResult } from "./model-provider.ts";
import type { RoleDefinition } from "./roles/builtin-roles.ts";
import { editsResultSchema, findingsResultSchema, toFileEdits, toFindings, type EditsResult, type FindingsResult } from "./roles/role-schemas.ts";
import { validateEdits } from "./roles/validate-edits.ts";
import { estimateTokens, fenceUntrusted, UNTRUSTED_DATA_INSTRUCTION } from "./untrusted-text.ts";
import type { ConversationMessage } from "../workflows/ports.ts";

export interface RoleStepInput {
  request: AgentRequest;
  role: RoleDefinition;
  model: string;
  reader: RepoReader;
  history: ConversationMessage[];
  historyDropped: number;
  budgets: { contextTokens: number; maxOutputTokens: number; maxStepCostUsd?: number };
  /** Cost of a usage at this model's price (0 when unpriced). */
  costOf: (usage: Usage) => number;
  call: ModelCallContext;
}

export interface RoleStepResult {
  output: Omit<StepOutput, "costUsd" | "model">;
}

/** Executes the role; usage covers every call made (including a repair round). */
export async function runRoleStep(input: RoleStepInput): Promise<RoleStepResult> {
  const { request, role, reader } = input;
  const focus: ContextFocus = role.result;
  const context = await buildContext({ trigger: request.trigger, reader, focus, budgetTokens: input.budgets.contextTokens, hints: request.prompt });
  const system = [
    role.systemPrompt,
    UNTRUSTED_DATA_INSTRUCTION,
    input.history.length > 0 ? "Earlier messages of this thread's conversation come first; the last message is the current task." : "",
    role.result === "text" ? "Answer in GitHub-flavoured Markdown." : "",
  ]
    .filter(Boolean)
    .join("\n\n");
  const user = [context.text, upstreamSection(request), input.historyDropped > 0 ? `(${input.historyDropped} older conversation messages left out)` : "", `## Task\n${request.prompt}`]
    .filter(Boolean)
    .join("\n\n");
  const messages: ChatMessage[] = [...toChatMessages(input.history), { role: "user", content: user }];
  const base = { model: input.model, system, maxOutputTokens: input.budgets.maxOutputTokens, signal: request.signal };
  const usage: Usage = { inputTokens: 0, outputTokens: 0, cachedTokens: 0 };
  const add = (r: ModelResult) => {
    usage.inputTokens += r.usage.inputTokens;
    usage.outputTokens += r.usage.outputTokens;
    usage.cachedTokens += r.usage.cachedTokens;
  };
  const leftOut = context.omitted.length > 0 ? { leftOut: context.omitted } : {};
  // refuse a call whose input alone would take the step past its cost budget
  const guard = (next: ChatMessage[]) => {
    const cap = input.budgets.maxStepCostUsd;
    if (cap === undefined) return;
    const estimate = input.costOf({ ...usage, inputTokens: usage.inputTokens + estimateTokens(system) + next.reduce((n, m) => n + estimateTokens(m.content), 0) });
    if (estimate > cap) {
      throw new BudgetExceededError(`The ${role.name} step would cost about $${estimate.toFixed(4)}, more than its budget of $${cap.toFixed(4)}; raise the budget or narrow the task`);
    }
  };
  guard(messages);

  if (role.result === "text") {
    const result = await callModel(input.call, { ...base, messages });
    add(result);
    return { output: { text: result.text, usage, data: { ...leftOut } } };
  }

  if (role.result === "findings") {
    const result = await callModel(input.call, { ...base, messages, schema: findingsResultSchema, schemaName: "review" });
    add(result);
    const parsed = result.object as FindingsResult;
    return { output: { text: parsed.summary, findings: toFindings(parsed.findings), usage, data: { ...leftOut } } };
  }

  const first = await callModel(input.call, { ...base, messages, schema: editsResultSchema, schemaName: "edits" });
  add(first);
  let parsed = first.object as EditsResult;
  let checked = await checkEdits(parsed, reader, context.ref);
  if (checked.problems.length > 0) {
    input.call.log.info({ problems: checked.problems.length }, "edits do not apply; asking the model to correct them");
    const repair: ChatMessage[] = [
      ...messages,
      { role: "assistant", content: JSON.stringify(parsed) },
      { role: "user", content: await repairPrompt(checked.problems, parsed, reader, context.ref) },
    ];
    guard(repair);
    const second = await callModel(input.call, { ...base, messages: repair, schema: editsResultSchema, schemaName: "edits" });
    add(second);
    parsed = second.object as EditsResult;
    checked = await checkEdits(parsed, reader, context.ref);
    if (checked.problems.length > 0) {
      throw new NonRetriableError(`The ${role.name} step produced edits that do not apply to the repository:\n${checked.problems.map((p) => `- ${p}`).join("\n")}`);
    }
  }
  return { output: { text: parsed.summary, edits: checked.edits, usage, data: { ...leftOut } } };
}

async function checkEdits(result: EditsResult, reader: RepoReader, ref: string): Promise<{ edits: FileEdit[]; problems: string[] }> {
  const shaped = toFileEdits(result.edits);
  const validated = await validateEdits(shaped.edits, reader, ref);
  return { edits: validated.edits, problems: [...shaped.problems, ...validated.problems] };
}

async function repairPrompt(problems: string[], result: EditsResult, reader: RepoReader, ref: string): Promise<string> {
  const lines = ["Your edits cannot be applied:", ...problems.map((p) => `- ${p}`), ""];
  const paths = [...new Set(result.edits.filter((e) => e.kind === "modify").map((e) => e.path.replace(/^\.?\//, "")))].slice(0, 3);
  for (const path of paths) {
    const content = await reader.readFile(path, ref).catch(() => undefined);
    if (content !== undefined) lines.push(`Current content of ${path}:`, fenceUntrusted(`file ${path}`, content.slice(0, 40_000)), "");
  }
  lines.push("Answer again with the complete, corrected list of edits. Copy every search text exactly from the current file content.");
  return lines.join("\n");
}

function upstreamSection(request: AgentRequest): string {
  const entries = Object.entries(request.upstream);
  if (entries.length === 0) return "";
  const parts = ["## Results of earlier steps"];
  for (const [id, output] of entries) {
    const details: string[] = [output.text.slice(0, 4_000)];
    if (output.edits?.length) details.push(`Edited files: ${output.edits.map((e) => `${e.kind} ${e.path}`).join(", ")}`);
    if (output.findings?.length) details.push(`Findings: ${output.findings.map((f) => `${f.severity} ${f.path}:${f.line} ${f.body.slice(0, 200)}`).join("\n")}`);
    parts.push(fenceUntrusted(`output of step ${id}`, details.join("\n")));
  }
  return parts.join("\n");
}

/**
 * The bounded tool loop of a chat-model role (DESIGN D12). Each round is one model call through
 * `callModel` (so limiter, breaker and retry apply per round, and a retried round never repeats a
 * tool's effect); the loop executes the tool calls against the step's workspace view, answers each
 * one, and ends on a final answer: text, or the role's structured result (edits are applied to the
 * layer; a result that does not apply or parse is answered with the reason and the loop goes on).
 * Before every round the step's token and cost budgets are checked; the last allowed round forbids
 * tools so the model must answer.
 */
import { BudgetExceededError } from "../errors/budget-exceeded-error.ts";
import { NonRetriableError } from "../errors/non-retriable-error.ts";
import type { AgentProgress } from "../workflows/ports.ts";
import type { Usage } from "../workflows/types.ts";
import type { WorkspaceView } from "../workspace/workspace-view.ts";
import { callModel, type ModelCallContext } from "./model-call.ts";
import type { ChatMessage, ModelResult } from "./model-provider.ts";
import type { RoleResult } from "./roles/builtin-roles.ts";
import { editsResultSchema, findingsResultSchema, type EditsResult, type FindingsResult } from "./roles/role-schemas.ts";
import { applyAnswerEdits } from "./tools/answer-edits.ts";
import { declareTools, executeToolCall, toolsFor } from "./tools/tool-set.ts";
import { estimateTokens } from "../workflows/untrusted-text.ts";

/** Per-step limits of the loop (template `tools:` with these defaults). */
export interface ToolLimits {
  /** Model calls (rounds) per step attempt. */
  maxRounds: number;
  /** Bytes of one tool answer sent back to the model. */
  maxResultBytes: number;
  /** Input + output tokens of all rounds of the attempt. */
  maxTokens: number;
}

export const DEFAULT_TOOL_LIMITS: ToolLimits = { maxRounds: 25, maxResultBytes: 16_000, maxTokens: 600_000 };

/** Tool calls answered per round; further calls of the same round are answered with an error. */
const MAX_CALLS_PER_ROUND = 12;
/** A rough allowance for the declared tools and schemas in every request. */
const TOOL_SCHEMA_TOKENS = 1_200;

export interface ToolLoopInput {
  roleName: string;
  result: RoleResult;
  model: string;
  /** The system prompt; asked again before every round (instructions found by tools extend it). */
  system: () => string;
  messages: ChatMessage[];
  view: WorkspaceView;
  limits: ToolLimits;
  maxOutputTokens: number;
  maxStepCostUsd?: number;
  costOf: (usage: Usage) => number;
  call: ModelCallContext;
  signal: AbortSignal;
  /** Paths a tool call looked at or changed; returns a note for the model (e.g. new instructions), if any. */
  onPaths?: (paths: string[]) => string | undefined;
}

export interface ToolLoopResult {
  /** The summary (edits, findings) or the answer (text). */
  text: string;
  findings?: FindingsResult["findings"];
  /** Model calls made. */
  rounds: number;
  /** Tool calls executed (including those answered with an error). */
  toolCalls: number;
  usage: Usage;
}

/**
 * Runs the loop until a final answer or a limit.
 *
 * @throws BudgetExceededError when the next round would pass the step's cost or token budget
 * @throws NonRetriableError when the rounds are used up without a valid final answer
 */
export async function runToolLoop(input: ToolLoopInput): Promise<ToolLoopResult> {
  const tools = toolsFor(input.result);
  const declared = declareTools(tools);
  const schema = input.result === "edits" ? editsResultSchema : input.result === "findings" ? findingsResultSchema : undefined;
  const messages = [...input.messages];
  const usage: Usage = { inputTokens: 0, outputTokens: 0, cachedTokens: 0 };
  const trail: string[] = [];
  let toolCalls = 0;
  let lastProblem = "";

  const report = (progress: AgentProgress) => {
    try {
      input.call.onProgress(progress);
    } catch {
      // progress is best effort
    }
  };

  for (let round = 1; round <= input.limits.maxRounds; round++) {
    input.signal.throwIfAborted();
    const system = input.system();
    const estimate = TOOL_SCHEMA_TOKENS + estimateTokens(system) + messages.reduce((n, m) => n + estimateTokens(m.content) + 4, 0);
    const used = usage.inputTokens + usage.outputTokens;
    checkBudgets(input, usage, estimate, used);
    // the last round allowed by rounds or budgets forbids tools: the model must answer now
    const nextCost = input.costOf({ ...usage, inputTokens: usage.inputTokens + 2 * estimate, outputTokens: usage.outputTokens + Math.min(input.maxOutputTokens, 4_000) });
    const final =
      round === input.limits.maxRounds || used + 2 * estimate + input.maxOutputTokens > input.limits.maxTokens || (input.maxStepCostUsd !== undefined && nextCost > input.maxStepCostUsd);
    if (final && round > 1) messages.push({ role: "user", content: `This is your last round: no more tools. Give your final answer now${schema ? " in the required JSON format" : ""}.` });

    const tokensBefore = usage.outputTokens;
    const call: ModelCallContext = {
      ...input.call,
      onProgress: (p) => report({ tokens: tokensBefore + p.tokens, tail: tailOf(trail, p.tail), ...(p.message === undefined ? {} : { message: p.message }) }),
    };
    const result: ModelResult = await callModel(call, {
      model: input.model,
      system,
      messages,
      tools: declared,
      ...(final ? { toolChoice: "none" as const } : {}),
      ...(schema ? { schema, schemaName: input.result === "edits" ? "edits" : "review" } : {}),
      maxOutputTokens: input.maxOutputTokens,
      signal: input.signal,
    });
    usage.inputTokens += result.usage.inputTokens;
    usage.outputTokens += result.usage.outputTokens;
    usage.cachedTokens += result.usage.cachedTokens;

    if (result.toolCalls.length > 0) {
      if (final) {
        lastProblem = "it called tools in its last round instead of answering";
        break;
      }
      messages.push({ role: "assistant", content: result.text, toolCalls: result.toolCalls });
      const results = [];
      const notes: string[] = [];
      for (const [index, toolCall] of result.toolCalls.entries()) {
        toolCalls += 1;
        if (index >= MAX_CALLS_PER_ROUND) {
          results.push({ id: toolCall.id, name: toolCall.name, output: `Not run: at most ${MAX_CALLS_PER_ROUND} tool calls per round; call it again in the next round.`, isError: true });
          continue;
        }
        input.signal.throwIfAborted();
        const executed = await executeToolCall(toolCall, tools, { view: input.view }, input.limits.maxResultBytes);
        results.push(executed.result);
        trail.push(executed.label);
        if (trail.length > 30) trail.shift();
        report({ tokens: tokensBefore + Math.ceil(result.usage.outputTokens), tail: tailOf(trail, ""), message: executed.label });
        const note = executed.paths.length > 0 ? input.onPaths?.(executed.paths) : undefined;
        if (note) notes.push(note);
      }
      messages.push({ role: "tool", content: results.map((r) => r.output).join("\n"), toolResults: results });
      if (notes.length > 0) messages.push({ role: "user", content: notes.join("\n\n") });
      continue;
    }

    // a final answer
    if (!schema) return { text: result.text, rounds: round, toolCalls, usage };
    if (result.object === undefined) {
      lastProblem = `its answer is not valid JSON for the ${input.result} schema: ${(result.objectError ?? "no structured answer").slice(0, 500)}`;
      messages.push({ role: "assistant", content: result.text || "(empty answer)" });
      messages.push({ role: "user", content: `Your answer could not be used: ${lastProblem}. Answer again with JSON that matches the schema${final ? "" : ", or keep using the tools"}.` });
      continue;
    }
    if (input.result === "findings") {
      const parsed = result.object as FindingsResult;
      return { text: parsed.summary, findings: parsed.findings, rounds: round, toolCalls, usage };
    }
    const parsed = result.object as EditsResult;
    const applied = await applyAnswerEdits(input.view, parsed.edits);
    if (applied.problems.length === 0) return { text: parsed.summary, rounds: round, toolCalls, usage };
    lastProblem = `the edits of its answer do not apply:\n${applied.problems.map((p) => `- ${p}`).join("\n")}`;
    messages.push({ role: "assistant", content: result.text });
    messages.push({
      role: "user",
      content: `None of the edits of your answer were applied:\n${applied.problems.map((p) => `- ${p}`).join("\n")}\nFix them with the tools (read_file shows the current content; edits you made with tools are kept) and answer again; list in "edits" only changes not yet made.`,
    });
  }
  throw new NonRetriableError(
    `The ${input.roleName} step used its ${input.limits.maxRounds} model rounds without a usable final answer${lastProblem ? `: ${lastProblem}` : ""}. Raise tools.maxRounds in the workflow template or narrow the task.`,
  );
}

function checkBudgets(input: ToolLoopInput, usage: Usage, estimate: number, used: number) {
  if (used + estimate > input.limits.maxTokens) {
    throw new BudgetExceededError(
      `The ${input.roleName} step would use about ${used + estimate} tokens, more than its limit of ${input.limits.maxTokens} (tools.maxTokens); raise the limit or narrow the task`,
    );
  }
  const cap = input.maxStepCostUsd;
  if (cap === undefined) return;
  const cost = input.costOf({ ...usage, inputTokens: usage.inputTokens + estimate });
  if (cost > cap) {
    throw new BudgetExceededError(`The ${input.roleName} step would cost about $${cost.toFixed(4)}, more than its budget of $${cap.toFixed(4)}; raise the budget or narrow the task`);
  }
}

function tailOf(trail: string[], streamed: string): string {
  const activity = trail.slice(-12).join("\n");
  const text = streamed ? (activity ? `${activity}\n${streamed}` : streamed) : activity;
  return text.slice(-2_000);
}

/**
 * The `ModelProvider` port: the one small interface every chat-model backend implements
 * (OpenAI, Anthropic, OpenAI-compatible, all through the Vercel AI SDK). Roles and the runner
 * speak only this.
 */
import type { z } from "zod";
import { ConfigError } from "../errors/config-error.ts";
import type { Usage } from "../workflows/types.ts";

/**
 * One message of a conversation. Tool loops add an assistant message carrying `toolCalls` and then a
 * `tool` message carrying one result per call; `content` is always the plain text (for a `tool`
 * message the results joined), so token estimates need no special case.
 */
export interface ChatMessage {
  role: "user" | "assistant" | "tool";
  content: string;
  /** Assistant messages: the tool calls the model made in that turn. */
  toolCalls?: ToolCallRecord[];
  /** Tool messages: the answers to the preceding assistant message's calls. */
  toolResults?: ToolResultRecord[];
}

/** The answer to one tool call, sent back to the model. */
export interface ToolResultRecord {
  /** The id of the call it answers. */
  id: string;
  name: string;
  output: string;
  /** The call failed (bad input, path refused, file missing …): the model should correct itself. */
  isError: boolean;
}

/** A tool the model may call. Without `execute`, calls are returned to the caller. */
export interface ModelTool {
  description: string;
  inputSchema: z.ZodType;
  execute?: (input: unknown, options: { signal: AbortSignal }) => Promise<unknown>;
}

export interface ToolCallRecord {
  id: string;
  name: string;
  input: unknown;
  /** Set when the call named an unknown tool or its input did not match the tool's schema. */
  error?: string;
}

export interface ModelCall {
  /** The model id without the provider prefix, e.g. `gpt-4.1-mini`. */
  model: string;
  system: string;
  messages: ChatMessage[];
  /** When set, the answer is structured output validated against this schema (returned as `object`). */
  schema?: z.ZodType;
  /** Name of the structured output (some providers use it as guidance). */
  schemaName?: string;
  tools?: Record<string, ModelTool>;
  /** Model ↔ tool round trips allowed when tools execute (default 1: no loop). */
  maxSteps?: number;
  /** `none` forbids tool calls in this call (the tools stay declared for the history). Default `auto`. */
  toolChoice?: "auto" | "none";
  maxOutputTokens?: number;
  signal: AbortSignal;
  /** Called for every streamed text delta. */
  onText?: (delta: string) => void;
}

export interface ModelResult {
  text: string;
  /** The validated structured output, when `schema` was given (absent when the model called tools instead). */
  object?: unknown;
  /**
   * With `tools` and `schema`: why the final answer is not a valid structured output (the caller
   * tells the model and lets it answer again). Without tools such an answer throws instead.
   */
  objectError?: string;
  toolCalls: ToolCallRecord[];
  usage: Usage;
  finishReason: string;
}

export interface ModelProvider {
  /** Provider name: `openai`, `anthropic`, `openai-compatible`. */
  readonly name: string;
  /** Streams one call; throws the SDK's / network errors unclassified (resilience classifies). */
  call(request: ModelCall): Promise<ModelResult>;
}

/** A `<provider>:<model>` reference. */
export interface ModelRef {
  provider: string;
  model: string;
}

/**
 * Parses `<provider>:<model>` (the model part may itself contain colons, e.g. `ollama:llama3:8b`).
 * A malformed reference is a `ConfigError`: the user must fix it, and the engine never retries it.
 *
 * @example
 * parseModelRef("anthropic:claude-sonnet-4-5"); // { provider: "anthropic", model: "claude-sonnet-4-5" }
 */
export function parseModelRef(ref: string): ModelRef {
  const index = ref.indexOf(":");
  if (index <= 0 || index === ref.length - 1) {
    throw new ConfigError(`model "${ref}" must be <provider>:<model>, e.g. openai:gpt-4.1-mini`);
  }
  return { provider: ref.slice(0, index).trim(), model: ref.slice(index + 1).trim() };
}

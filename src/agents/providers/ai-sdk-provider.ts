/**
 * `ModelProvider` over the Vercel AI SDK for `openai` (Responses API by default, Chat Completions
 * on request), `anthropic` and `openai-compatible` (structured outputs on). The SDK's own retries
 * are off (`maxRetries: 0`): retries belong to `src/resilience/`. Each provider gets the `fetch`
 * of its own keep-alive pool.
 */
import { createAnthropic } from "@ai-sdk/anthropic";
import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { experimental_streamTextLowMemory, Output, stepCountIs, streamText, tool, ToolChoiceViolationError, type LanguageModel, type LanguageModelUsage, type ModelMessage, type OutputInterface, type ToolSet } from "ai";
import type { z } from "zod";
import { ExternalServiceError } from "../../errors/external-service-error.ts";
import { NonRetriableError } from "../../errors/non-retriable-error.ts";
import type { Usage } from "../../workflows/types.ts";
import type { ChatMessage, ModelCall, ModelProvider, ModelResult, ToolCallRecord } from "../model-provider.ts";

export type AiSdkProviderKind = "openai" | "anthropic" | "openai-compatible";

export interface AiSdkProviderOptions {
  kind: AiSdkProviderKind;
  apiKey?: string;
  /** API base, e.g. `https://api.openai.com/v1`; required for `openai-compatible`. */
  baseURL?: string;
  fetch: typeof globalThis.fetch;
  /** OpenAI only: `responses` (default) or `chat` (Chat Completions). */
  openaiApi?: "responses" | "chat";
}

/**
 * Creates a provider.
 *
 * @example
 * const provider = createAiSdkProvider({ kind: "anthropic", apiKey, fetch: pool.fetchFor("anthropic") });
 * const result = await provider.call({ model: "claude-sonnet-4-5", system, messages, signal });
 */
export function createAiSdkProvider(options: AiSdkProviderOptions): ModelProvider {
  const modelFor = languageModelFactory(options);
  return {
    name: options.kind,
    async call(request: ModelCall): Promise<ModelResult> {
      const tools = toToolSet(request);
      // Anthropic: "auto" uses native output_format where the model supports it, a JSON tool otherwise
      const providerOptions = options.kind === "openai" && request.schema ? { openai: { strictJsonSchema: true } } : undefined;
      const settings = {
        model: modelFor(request.model),
        system: request.system,
        messages: toModelMessages(request.messages),
        maxRetries: 0,
        abortSignal: request.signal,
        // errors are read from the stream below; the default handler would print the request to stderr
        onError: () => undefined,
        ...(request.maxOutputTokens ? { maxOutputTokens: request.maxOutputTokens } : {}),
        ...(tools ? { tools, stopWhen: stepCountIs(Math.max(1, request.maxSteps ?? 1)), ...(request.toolChoice ? { toolChoice: request.toolChoice } : {}) } : {}),
        ...(providerOptions ? { providerOptions } : {}),
      };
      // Without a schema we read `fullStream` once and nothing else, so the SDK's single-consumer
      // variant (same engine, no replay buffer kept for other readers) is enough and ≈ 10 % cheaper
      // per call. Structured output needs `result.output`, which only `streamText` offers.
      const schemaResult = request.schema ? streamText({ ...settings, output: structuredOutput(request.schema, request.schemaName ?? "result") }) : undefined;
      const fullStream = schemaResult ? schemaResult.fullStream : experimental_streamTextLowMemory(settings).fullStream;
      let text = "";
      let streamError: unknown;
      let finishReason = "unknown";
      let usage: LanguageModelUsage | undefined;
      const toolCalls: ToolCallRecord[] = [];
      let toolChoiceViolated = false;
      for await (const part of fullStream) {
        if (part.type === "text-delta") {
          text += part.text;
          request.onText?.(part.text);
        } else if (part.type === "tool-call") {
          const invalid = (part as { invalid?: boolean; error?: unknown }).invalid ? (part as { error?: unknown }).error : undefined;
          toolCalls.push({ id: part.toolCallId, name: part.toolName, input: part.input, ...(invalid === undefined ? {} : { error: invalid instanceof Error ? invalid.message : String(invalid) }) });
        } else if (part.type === "error") {
          // toolChoice "none" and the model called a tool anyway: the tool loop decides what that means
          if (ToolChoiceViolationError.isInstance(part.error)) toolChoiceViolated = true;
          else streamError ??= part.error;
        } else if (part.type === "abort") {
          streamError ??= request.signal.reason ?? new DOMException("The operation was aborted.", "AbortError");
        } else if (part.type === "finish") {
          finishReason = part.finishReason;
          usage = part.totalUsage;
        }
      }
      if (streamError !== undefined) throw streamError;
      if (request.signal.aborted) throw request.signal.reason;
      if (toolChoiceViolated) {
        if (toolCalls.length === 0) toolCalls.push({ id: "tool-choice-violation", name: "(tool call)", input: null, error: "tools were not allowed in this call" });
        return { text, toolCalls, usage: toUsage(usage), finishReason: "tool-calls" };
      }
      if (finishReason === "interrupted" || finishReason === "unknown") {
        // the body ended without the provider's closing event (cut connection, proxy error page)
        throw new ExternalServiceError(`${options.kind} stream ended before the answer was complete`, { service: options.kind, retriable: true });
      }
      if (request.schema && finishReason === "length") {
        throw new NonRetriableError(
          `${options.kind} stopped at the output limit (${request.maxOutputTokens ?? "provider default"} tokens) before the structured answer was complete; raise the output budget or narrow the task`,
        );
      }
      const out: ModelResult = { text, toolCalls, usage: toUsage(usage), finishReason };
      if (schemaResult && toolCalls.length === 0) {
        if (!tools) out.object = await schemaResult.output;
        else {
          // a tool loop tells the model what is wrong with its answer instead of failing the step
          try {
            out.object = await schemaResult.output;
          } catch (error) {
            out.objectError = error instanceof Error ? error.message : String(error);
          }
        }
      }
      return out;
    },
  };
}

/**
 * `Output.object` (same response format for the provider, same final parse and zod validation,
 * same `NoObjectGeneratedError`) minus its per-delta partial parse. `streamText` re-parses the
 * whole text so far as partial JSON on every delta to feed `partialOutputStream`, which we never
 * read: quadratic in the answer (a 35 kB answer in 2,164 deltas took ≈ 500 ms per call instead of ≈ 76 ms).
 * The text-mode partial (the text itself) is O(1) and still lets every delta through at once.
 */
function structuredOutput(schema: z.ZodType, name: string): OutputInterface<unknown, unknown, never> {
  const object = Output.object({ schema, name }) as OutputInterface<unknown, unknown, never>;
  return { ...object, parsePartialOutput: ({ text }) => Promise.resolve({ partial: text }) };
}

function languageModelFactory(options: AiSdkProviderOptions): (model: string) => LanguageModel {
  const common = { fetch: options.fetch, ...(options.apiKey ? { apiKey: options.apiKey } : {}), ...(options.baseURL ? { baseURL: options.baseURL } : {}) };
  switch (options.kind) {
    case "openai": {
      const openai = createOpenAI(common);
      return options.openaiApi === "chat" ? (model) => openai.chat(model) : (model) => openai.responses(model);
    }
    case "anthropic": {
      const anthropic = createAnthropic(common);
      return (model) => anthropic(model);
    }
    case "openai-compatible": {
      if (!options.baseURL) throw new Error("OPENAI_COMPATIBLE_BASE_URL is required for the openai-compatible provider");
      const compatible = createOpenAICompatible({
        name: "openai-compatible",
        baseURL: options.baseURL,
        fetch: options.fetch,
        includeUsage: true,
        supportsStructuredOutputs: true,
        ...(options.apiKey ? { apiKey: options.apiKey } : {}),
      });
      return (model) => compatible.chatModel(model);
    }
  }
}

/** Our messages as the SDK's: tool calls become `tool-call` parts, tool answers `tool-result` parts. */
function toModelMessages(messages: ChatMessage[]): ModelMessage[] {
  return messages.map((m): ModelMessage => {
    if (m.role === "tool") {
      return {
        role: "tool",
        content: (m.toolResults ?? []).map((r) => ({ type: "tool-result" as const, toolCallId: r.id, toolName: r.name, output: r.isError ? { type: "error-text" as const, value: r.output } : { type: "text" as const, value: r.output } })),
      };
    }
    if (m.role === "assistant" && m.toolCalls && m.toolCalls.length > 0) {
      return {
        role: "assistant",
        content: [...(m.content ? [{ type: "text" as const, text: m.content }] : []), ...m.toolCalls.map((c) => ({ type: "tool-call" as const, toolCallId: c.id, toolName: c.name, input: c.input }))],
      };
    }
    return m.role === "assistant" ? { role: "assistant", content: m.content } : { role: "user", content: m.content };
  });
}

function toToolSet(request: ModelCall): ToolSet | undefined {
  if (!request.tools) return undefined;
  const set: ToolSet = {};
  for (const [name, t] of Object.entries(request.tools)) {
    const execute = t.execute;
    set[name] = execute
      ? tool({ description: t.description, inputSchema: t.inputSchema, execute: (input: unknown) => execute(input, { signal: request.signal }) })
      : tool({ description: t.description, inputSchema: t.inputSchema });
  }
  return set;
}

function toUsage(usage: LanguageModelUsage | undefined): Usage {
  return {
    inputTokens: usage?.inputTokens ?? 0,
    outputTokens: usage?.outputTokens ?? 0,
    cachedTokens: usage?.inputTokenDetails?.cacheReadTokens ?? 0,
  };
}

/**
 * Wire formats of the fake model server: a scripted text answer encoded as OpenAI Chat Completions
 * SSE (with the usage chunk), Responses API events, or Anthropic Messages SSE.
 */
import type { ModelRoute, Reply } from "./model-server.ts";

function split(text: string, size: number): string[] {
  if (text === "") return [];
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return parts;
}

function sse(data: unknown, event?: string): string {
  return `${event ? `event: ${event}\n` : ""}data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
}

/** Encodes a text reply as the SSE events of `route`. */
export function encodeEvents(route: ModelRoute, reply: Extract<Reply, { kind: "text" }>, model: string): string[] {
  const pieces = split(reply.text, reply.chunkSize ?? 16);
  const usage = reply.usage ?? { input: 10, output: Math.max(1, Math.ceil(reply.text.length / 4)), cached: 0 };
  const created = 1_750_000_000;
  switch (route) {
    case "openai.chat": {
      const id = "chatcmpl-fake";
      const base = { id, object: "chat.completion.chunk", created, model, system_fingerprint: "fp_fake" };
      const events = [sse({ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] })];
      for (const p of pieces) events.push(sse({ ...base, choices: [{ index: 0, delta: { content: p }, finish_reason: null }] }));
      (reply.toolCalls ?? []).forEach((call, index) => {
        events.push(sse({ ...base, choices: [{ index: 0, delta: { tool_calls: [{ index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }] }, finish_reason: null }] }));
        for (const a of split(call.arguments, 12)) events.push(sse({ ...base, choices: [{ index: 0, delta: { tool_calls: [{ index, function: { arguments: a } }] }, finish_reason: null }] }));
      });
      events.push(sse({ ...base, choices: [{ index: 0, delta: {}, finish_reason: reply.toolCalls?.length ? "tool_calls" : "stop" }] }));
      events.push(
        sse({
          ...base,
          choices: [],
          usage: {
            prompt_tokens: usage.input,
            completion_tokens: usage.output,
            total_tokens: usage.input + usage.output,
            prompt_tokens_details: { cached_tokens: usage.cached ?? 0 },
            completion_tokens_details: { reasoning_tokens: 0 },
          },
        }),
      );
      events.push(sse("[DONE]"));
      return events;
    }
    case "openai.responses": {
      const response = { id: "resp_fake", object: "response", created_at: created, model, status: "in_progress", output: [] };
      const item = { type: "message", id: "msg_fake", status: "in_progress", role: "assistant", content: [] };
      let seq = 0;
      const ev = (data: Record<string, unknown>) => sse({ ...data, sequence_number: seq++ }, data["type"] as string);
      const events = [ev({ type: "response.created", response }), ev({ type: "response.in_progress", response })];
      const calls = reply.toolCalls ?? [];
      const withMessage = reply.text !== "" || calls.length === 0;
      const callItems = calls.map((call) => ({ type: "function_call", id: `fc_${call.id}`, call_id: call.id, name: call.name, arguments: call.arguments, status: "completed" }));
      const pushCalls = () =>
        callItems.forEach((done, index) => {
          const outputIndex = (withMessage ? 1 : 0) + index;
          events.push(ev({ type: "response.output_item.added", output_index: outputIndex, item: { ...done, arguments: "", status: "in_progress" } }));
          for (const a of split(done.arguments, 12)) events.push(ev({ type: "response.function_call_arguments.delta", item_id: done.id, output_index: outputIndex, delta: a }));
          events.push(ev({ type: "response.function_call_arguments.done", item_id: done.id, output_index: outputIndex, arguments: done.arguments }));
          events.push(ev({ type: "response.output_item.done", output_index: outputIndex, item: done }));
        });
      if (!withMessage) {
        pushCalls();
        events.push(ev({ type: "response.completed", response: { ...response, status: "completed", output: callItems, usage: responsesUsage(usage) } }));
        return events;
      }
      events.push(ev({ type: "response.output_item.added", output_index: 0, item }));
      events.push(ev({ type: "response.content_part.added", item_id: "msg_fake", output_index: 0, content_index: 0, part: { type: "output_text", text: "", annotations: [] } }));
      for (const p of pieces) events.push(ev({ type: "response.output_text.delta", item_id: "msg_fake", output_index: 0, content_index: 0, delta: p, logprobs: [] }));
      events.push(ev({ type: "response.output_text.done", item_id: "msg_fake", output_index: 0, content_index: 0, text: reply.text, logprobs: [] }));
      events.push(ev({ type: "response.content_part.done", item_id: "msg_fake", output_index: 0, content_index: 0, part: { type: "output_text", text: reply.text, annotations: [] } }));
      const doneItem = { ...item, status: "completed", content: [{ type: "output_text", text: reply.text, annotations: [] }] };
      events.push(ev({ type: "response.output_item.done", output_index: 0, item: doneItem }));
      pushCalls();
      events.push(ev({ type: "response.completed", response: { ...response, status: "completed", output: [doneItem, ...callItems], usage: responsesUsage(usage) } }));
      return events;
    }
    case "anthropic.messages": {
      const events = [
        sse(
          {
            type: "message_start",
            message: {
              id: "msg_fake",
              type: "message",
              role: "assistant",
              model,
              content: [],
              stop_reason: null,
              stop_sequence: null,
              usage: { input_tokens: usage.input, output_tokens: 1, cache_read_input_tokens: usage.cached ?? 0, cache_creation_input_tokens: 0 },
            },
          },
          "message_start",
        ),
        sse({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }, "content_block_start"),
        sse({ type: "ping" }, "ping"),
      ];
      for (const p of pieces) events.push(sse({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: p } }, "content_block_delta"));
      events.push(sse({ type: "content_block_stop", index: 0 }, "content_block_stop"));
      const calls = reply.toolCalls ?? [];
      calls.forEach((call, i) => {
        const index = i + 1;
        events.push(sse({ type: "content_block_start", index, content_block: { type: "tool_use", id: call.id, name: call.name, input: {} } }, "content_block_start"));
        for (const a of split(call.arguments, 12)) events.push(sse({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: a } }, "content_block_delta"));
        events.push(sse({ type: "content_block_stop", index }, "content_block_stop"));
      });
      events.push(sse({ type: "message_delta", delta: { stop_reason: calls.length > 0 ? "tool_use" : "end_turn", stop_sequence: null }, usage: { output_tokens: usage.output } }, "message_delta"));
      events.push(sse({ type: "message_stop" }, "message_stop"));
      return events;
    }
    default:
      return [sse({ text: reply.text })];
  }
}

function responsesUsage(usage: { input: number; output: number; cached?: number }) {
  return {
    input_tokens: usage.input,
    input_tokens_details: { cached_tokens: usage.cached ?? 0 },
    output_tokens: usage.output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.input + usage.output,
  };
}

/**
 * The tool results a request sends back to the model, oldest first, in any of the three wire
 * formats (Chat Completions `tool` messages, Responses `function_call_output` items, Anthropic
 * `tool_result` blocks), so a scripted model can react to what its tools answered.
 */
export function toolResultsIn(body: unknown): { id: string; output: string; isError: boolean }[] {
  const out: { id: string; output: string; isError: boolean }[] = [];
  const b = body as { messages?: unknown[]; input?: unknown[] };
  for (const item of b.input ?? []) {
    const i = item as { type?: string; call_id?: string; output?: unknown };
    if (i.type === "function_call_output") out.push({ id: String(i.call_id), output: typeof i.output === "string" ? i.output : JSON.stringify(i.output), isError: false });
  }
  for (const message of b.messages ?? []) {
    const m = message as { role?: string; tool_call_id?: string; content?: unknown };
    if (m.role === "tool") out.push({ id: String(m.tool_call_id), output: typeof m.content === "string" ? m.content : JSON.stringify(m.content), isError: false });
    if (m.role === "user" && Array.isArray(m.content)) {
      for (const block of m.content as { type?: string; tool_use_id?: string; content?: unknown; is_error?: boolean }[]) {
        if (block.type !== "tool_result") continue;
        const text = typeof block.content === "string" ? block.content : Array.isArray(block.content) ? (block.content as { text?: string }[]).map((c) => c.text ?? "").join("") : "";
        out.push({ id: String(block.tool_use_id), output: text, isError: block.is_error === true });
      }
    }
  }
  return out;
}

export function chatCompletionJson(reply: Extract<Reply, { kind: "text" }>, model: string) {
  const usage = reply.usage ?? { input: 10, output: Math.max(1, Math.ceil(reply.text.length / 4)), cached: 0 };
  return {
    id: "chatcmpl-fake",
    object: "chat.completion",
    created: 1_750_000_000,
    model,
    choices: [{ index: 0, message: { role: "assistant", content: reply.text }, finish_reason: "stop" }],
    usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output, prompt_tokens_details: { cached_tokens: usage.cached ?? 0 } },
  };
}


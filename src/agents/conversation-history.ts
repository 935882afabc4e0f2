/**
 * Conversation context per issue / pull request: every exchange is appended to the store under
 * `owner/name#number`, and the next step of any run on that thread sees the most recent messages
 * that fit its token budget (oldest dropped first).
 */
import type { ConversationMessage, RunStore } from "../workflows/ports.ts";
import type { Trigger } from "../workflows/types.ts";
import type { ChatMessage } from "./model-provider.ts";
import { estimateTokens } from "../workflows/untrusted-text.ts";

/** The conversation key of a trigger: `owner/name#number`. */
export function contextKeyOf(trigger: Pick<Trigger, "repo" | "number">): string {
  return `${trigger.repo.owner}/${trigger.repo.name}#${trigger.number}`;
}

/**
 * Keeps the newest messages whose estimated tokens fit `budgetTokens`, oldest dropped first.
 * Returns them oldest first, with the number dropped.
 */
export function trimToBudget(messages: ConversationMessage[], budgetTokens: number): { messages: ConversationMessage[]; dropped: number } {
  const kept: ConversationMessage[] = [];
  let used = 0;
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (!message) continue;
    const cost = estimateTokens(message.content) + 4;
    if (used + cost > budgetTokens) break;
    used += cost;
    kept.push(message);
  }
  kept.reverse();
  // a history must not start with an assistant answer whose question was dropped
  while (kept[0]?.role === "assistant") kept.shift();
  return { messages: kept, dropped: messages.length - kept.length };
}

/**
 * Most messages read per step: the newest ones (a thread's older history never fits a prompt's
 * budget anyway, and the store keeps only the newest `MESSAGES_KEPT_PER_CONTEXT`).
 */
export const HISTORY_READ_LIMIT = 60;

/** Loads the thread's newest messages (at most `HISTORY_READ_LIMIT`), trimmed to the budget. */
export async function loadConversation(
  store: Pick<RunStore, "listMessages">,
  contextKey: string,
  budgetTokens: number,
): Promise<{ messages: ConversationMessage[]; dropped: number }> {
  const recent = await store.listMessages(contextKey, { limit: HISTORY_READ_LIMIT });
  return trimToBudget(recent, budgetTokens);
}

/** History as chat messages (system entries become user notes: providers differ on mid-chat system). */
export function toChatMessages(history: ConversationMessage[]): ChatMessage[] {
  return history.map((m) => ({
    role: m.role === "assistant" ? "assistant" : "user",
    content: m.role === "system" ? `(note) ${m.content}` : m.content,
  }));
}

/** Appends one exchange (the request and the answer) to the thread's history. */
export async function appendExchange(
  store: Pick<RunStore, "appendMessage">,
  contextKey: string,
  exchange: { request: string; answer: string; runId: string; at: number },
): Promise<void> {
  const clip = (s: string) => (s.length > 6_000 ? `${s.slice(0, 6_000)}…` : s);
  await store.appendMessage(contextKey, { role: "user", content: clip(exchange.request), at: exchange.at, runId: exchange.runId });
  await store.appendMessage(contextKey, { role: "assistant", content: clip(exchange.answer), at: exchange.at, runId: exchange.runId });
}

import { describe, expect, it } from "vitest";
import { contextKeyOf, HISTORY_READ_LIMIT, loadConversation, trimToBudget } from "../../src/agents/conversation-history.ts";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import { createInMemoryRepoReader } from "./support/in-memory-repo-reader.ts";
import { startModelServer } from "../fakes/model-server.ts";
import { harness, request } from "./support/fixtures.ts";
import type { ConversationMessage } from "../../src/workflows/ports.ts";

const msg = (role: ConversationMessage["role"], content: string, at: number): ConversationMessage => ({ role, content, at });

describe("conversation history", () => {
  it("keys conversations by owner/name#number", () => {
    expect(contextKeyOf({ repo: { owner: "a", name: "b", defaultBranch: "main" }, number: 5 })).toBe("a/b#5");
  });

  it("drops the oldest messages first to fit the budget and never starts with an answer", () => {
    const messages = [msg("user", "x".repeat(400), 1), msg("assistant", "y".repeat(400), 2), msg("user", "z".repeat(40), 3), msg("assistant", "w".repeat(40), 4)];
    const { messages: kept, dropped } = trimToBudget(messages, 130);
    expect(kept.map((m) => m.at)).toEqual([3, 4]);
    expect(dropped).toBe(2);
    const odd = trimToBudget(messages, 140); // fits the last 3 by size, but the first kept would be an answer
    expect(odd.messages.map((m) => m.at)).toEqual([3, 4]);
    expect(trimToBudget(messages, 10_000).messages).toHaveLength(4);
  });

  it("loads from the store", async () => {
    const store = { listMessages: async () => [msg("user", "q", 1), msg("assistant", "a", 2)] };
    expect((await loadConversation(store, "k", 100)).messages).toHaveLength(2);
  });

  it("reads only the newest messages of a long thread, not its whole history", async () => {
    const store = createMemoryRunStore();
    for (let i = 0; i < 150; i++) await store.appendMessage("k", msg(i % 2 ? "assistant" : "user", `m${i}`, i));
    const asked: (number | undefined)[] = [];
    const spying = { listMessages: (key: string, options?: { limit?: number }) => (asked.push(options?.limit), store.listMessages(key, options)) };
    const { messages } = await loadConversation(spying, "k", 1_000_000);
    expect(asked).toEqual([HISTORY_READ_LIMIT]);
    expect(messages).toHaveLength(HISTORY_READ_LIMIT);
    expect(messages.at(-1)?.content).toBe("m149");
    expect(messages[0]?.content).toBe(`m${150 - HISTORY_READ_LIMIT}`);
  });

  it("a follow-up step sees the earlier exchange of the same thread", async () => {
    const server = await startModelServer();
    const h = harness({ OPENAI_API_KEY: "sk-test-0000000000000000", OPENAI_BASE_URL: server.baseURL }, createInMemoryRepoReader({ files: {} }));
    try {
      const customRoles = { triage: { name: "triage", systemPrompt: "t", output: "comment" as const, result: "text" as const } };
      server.expect("openai.responses", { kind: "text", text: "The cause is the cache." }, { kind: "text", text: "Then clear it." });
      await h.runner.run(request({ step: { role: "triage", prompt: "Why is it slow?" }, customRoles }));
      await h.runner.run(request({ step: { role: "triage", prompt: "What now?" }, customRoles }));
      const second = server.requestsTo("openai.responses")[1]?.body as { input: { role: string; content: unknown }[] };
      const roles = second.input.map((m) => m.role);
      expect(roles).toEqual(["system", "user", "assistant", "user"]);
      expect(JSON.stringify(second.input[1])).toContain("Why is it slow?");
      expect(JSON.stringify(second.input[2])).toContain("The cause is the cache.");
      expect(JSON.stringify(second.input[3])).toContain("What now?");
      expect(h.store.messages.get("acme/widgets#7")?.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
      server.assertDone();
    } finally {
      await h.runner.close();
      await server.close();
    }
  });
});

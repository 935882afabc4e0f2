import { describe, expect, it } from "vitest";
import { startModelServer } from "../fakes/model-server.ts";

describe("fake model server", () => {
  it("fails assertDone on an unmatched request and on an unused scripted reply", async () => {
    const server = await startModelServer();
    try {
      server.expect("anthropic.messages", { kind: "text", text: "never asked" });
      const response = await fetch(`${server.baseURL}/chat/completions`, { method: "POST", body: "{}" });
      expect(response.status).toBe(599);
      expect(() => server.assertDone()).toThrow(/unmatched request: POST \/v1\/chat\/completions[\s\S]*1 unused scripted reply for anthropic.messages: text/);
    } finally {
      await server.close();
    }
  });

  it("answers non-streaming chat completions as JSON and records bodies", async () => {
    const server = await startModelServer();
    try {
      server.expect("openai.chat", { kind: "text", text: "plain", usage: { input: 3, output: 1 } });
      const response = await fetch(`${server.baseURL}/chat/completions`, { method: "POST", body: JSON.stringify({ model: "m", stream: false }) });
      const json = (await response.json()) as { choices: { message: { content: string } }[]; usage: { prompt_tokens: number } };
      expect(json.choices[0]?.message.content).toBe("plain");
      expect(json.usage.prompt_tokens).toBe(3);
      expect(server.requests[0]?.body).toEqual({ model: "m", stream: false });
      server.assertDone();
    } finally {
      await server.close();
    }
  });
});

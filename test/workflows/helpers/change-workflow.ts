/** A one-step workflow whose step changes `src/app.ts` (a = 1 → a = 2), for the delivery tests. */
import { workflow } from "../../../src/workflows/builder.ts";
import type { AgentRunner } from "../../../src/workflows/ports.ts";
import type { WorkflowTemplate } from "../../../src/config/template-schema.ts";

export const changeTemplate = (): WorkflowTemplate => workflow("change").step({ id: "generate", role: "generate", prompt: "change a", output: "pull_request" }).build();

/** Records its calls in `calls` and answers with the edit. */
export function changeAgent(by: string): AgentRunner & { calls: number } {
  const agent = {
    calls: 0,
    async run() {
      agent.calls += 1;
      return {
        text: `Set a to 2 (${by})`,
        edits: [{ kind: "modify" as const, path: "src/app.ts", blocks: [{ search: "a = 1", replace: "a = 2" }] }],
        usage: { inputTokens: 10, outputTokens: 5, cachedTokens: 0 },
        costUsd: 0.01,
      };
    },
  };
  return agent;
}

/**
 * Edits and the schemas agree: a fake model answers random schema-valid instances (json-schema-faker,
 * seeded) of every tool's input and of the roles' output schemas, round after round. Every run must
 * end in applied edits or a failure that says why (NonRetriableError / BudgetExceededError with a
 * message), never another exception and never a hang.
 */
import { generateSync } from "json-schema-faker";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { ModelProvider, ModelResult, ToolCallRecord } from "../../src/agents/model-provider.ts";
import { editsResultSchema, findingsResultSchema } from "../../src/agents/roles/role-schemas.ts";
import { EDIT_TOOLS, READ_TOOLS } from "../../src/agents/tools/tool-set.ts";
import type { StepOutput } from "../../src/workflows/types.ts";
import { createMemoryWorkspaces } from "../fakes/memory-workspace.ts";
import { harness, request } from "./support/fixtures.ts";
import { createInMemoryRepoReader } from "./support/in-memory-repo-reader.ts";

const FILES: Record<string, string> = {
  "src/app.ts": "import { a } from './a';\nexport const main = () => a + 1;\n",
  "src/a.ts": "export const a = 1;\nexport const b = 2;\nexport const b2 = 2;\n",
  "README.md": "# fuzz\n\nUsage: run it.\n",
  ".github/workflows/ci.yml": "on: push\n",
  "docs/guide.md": "Guide\n",
};
const PATHS = [...Object.keys(FILES), "src/new.ts", "../outside.ts", "/abs.ts", ".git/config", "src//./a.ts", ".github/workflows/new.yml", ""];

/** A tiny seeded PRNG (mulberry32), so a failing seed can be replayed. */
function prng(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

const jsonSchemaOf = (schema: z.ZodType) => z.toJSONSchema(schema, { io: "input" }) as Parameters<typeof generateSync>[0];

/**
 * A random instance, nudged towards the repository half of the time (still schema-valid: only string
 * values are swapped for real paths and for text that occurs in the file), so runs reach the
 * "applies" branches as well as the error branches.
 */
function instance(schema: z.ZodType, seed: number, random: () => number): unknown {
  const value = generateSync(jsonSchemaOf(schema), { seed, maxItems: 4, optionalsProbability: 0.5 });
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const nudge = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(nudge);
    if (v === null || typeof v !== "object") return v;
    const o: Record<string, unknown> = { ...(v as Record<string, unknown>) };
    for (const [k, x] of Object.entries(o)) o[k] = nudge(x);
    if (typeof o["path"] === "string" && random() < 0.7) o["path"] = pick(PATHS);
    const content = typeof o["path"] === "string" ? FILES[o["path"]] : undefined;
    if (typeof o["search"] === "string" && content && random() < 0.7) {
      const start = Math.floor(random() * content.length);
      o["search"] = content.slice(start, start + 1 + Math.floor(random() * 12));
    }
    if (Array.isArray(o["blocks"]) && content && random() < 0.5) o["blocks"] = (o["blocks"] as unknown[]).map((b) => ({ ...(b as object), search: content.slice(0, 5 + Math.floor(random() * 10)) }));
    if (typeof o["dir"] === "string" && random() < 0.5) o["dir"] = pick(["", "src", ".", "../x", "docs"]);
    if (typeof o["glob"] === "string" && random() < 0.5) o["glob"] = pick(["**/*.ts", "*.md", "src/**", "[", "{a,b"]);
    if (typeof o["regex"] === "string" && random() < 0.5) o["regex"] = pick(["export", "a\\s*=", "(", "(x+)+", "^$", "b2"]);
    return o;
  };
  return nudge(value);
}

const TOOLS = [...READ_TOOLS, ...EDIT_TOOLS];

/** A model that answers each round with random tool calls or a random final answer. */
function randomModel(seed: number, result: "edits" | "findings" | "text"): ModelProvider {
  const random = prng(seed);
  let n = 0;
  return {
    name: "fuzz",
    async call(call): Promise<ModelResult> {
      n += 1;
      const usage = { inputTokens: 100, outputTokens: 20, cachedTokens: 0 };
      const roll = random();
      const mayCallTools = call.toolChoice !== "none" || random() < 0.2; // sometimes ignores "none", like a real model might
      if (roll < 0.65 && mayCallTools) {
        const calls: ToolCallRecord[] = [];
        const count = 1 + Math.floor(random() * 3);
        for (let i = 0; i < count; i++) {
          const r = random();
          if (r < 0.05) calls.push({ id: `c${n}-${i}`, name: "run_tests", input: { cmd: "npm test" }, error: "Model tried to call unavailable tool 'run_tests'." });
          else if (r < 0.1) calls.push({ id: `c${n}-${i}`, name: "read_file", input: "{not json", error: "Invalid input for tool read_file: JSON parsing failed" });
          else {
            const tool = TOOLS[Math.floor(random() * TOOLS.length)]!;
            calls.push({ id: `c${n}-${i}`, name: tool.name, input: instance(tool.inputSchema, seed * 1000 + n * 10 + i, random) });
          }
        }
        return { text: "", toolCalls: calls, usage, finishReason: "tool-calls" };
      }
      if (result === "text") return { text: `answer ${n}`, toolCalls: [], usage, finishReason: "stop" };
      if (roll > 0.93) return { text: "{oops", toolCalls: [], usage, finishReason: "stop", objectError: "No object generated: could not parse the response." };
      const object = instance(result === "edits" ? editsResultSchema : findingsResultSchema, seed * 1000 + n, random);
      return { text: JSON.stringify(object), object, toolCalls: [], usage, finishReason: "stop" };
    },
  };
}

const RUNS = 150;

describe("random schema-valid answers", () => {
  for (const [role, result] of [
    ["generate", "edits"],
    ["review", "findings"],
    ["explain", "text"],
  ] as const) {
    it(`${role}: ${RUNS} seeded runs each end in applied edits / an answer, or a failure that says why`, async () => {
      const outcomes = { succeeded: 0, failed: 0, applied: 0 };
      for (let seed = 1; seed <= RUNS; seed++) {
        const workspaces = createMemoryWorkspaces(FILES);
        const h = harness({ OCTOFLOW_MODEL: "fuzz:model" }, createInMemoryRepoReader({ files: FILES }), {
          workspaces,
          providers: { fuzz: randomModel(seed, result) },
          toolLimits: { maxRounds: 6, maxResultBytes: 4_000 },
          budgets: { maxStepCostUsd: 1 },
          prices: { "fuzz:model": { input: 100, output: 100 } },
        });
        const customRoles = role === "explain" ? { explain: { name: "explain", systemPrompt: "Explain.", output: "comment" as const, result: "text" as const } } : {};
        let timer: NodeJS.Timeout | undefined;
        const hang = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`seed ${seed}: hang`)), 10_000);
        });
        let out: StepOutput | undefined;
        let failure: unknown;
        try {
          out = await Promise.race([h.runner.run(request({ step: { role, output: result === "edits" ? "pull_request" : "comment" }, customRoles })), hang]);
        } catch (error) {
          failure = error;
        } finally {
          clearTimeout(timer);
          await h.runner.close();
        }
        if (out) {
          outcomes.succeeded += 1;
          const changes = workspaces.views.get("implement")?.changes() ?? [];
          if (result === "edits") {
            expect(out.changes, `seed ${seed}`).toEqual(changes);
            if (changes.length > 0) outcomes.applied += 1;
            for (const c of changes) {
              const segments = c.path.split("/");
              expect(segments.every((x) => x !== "" && x !== "." && x !== ".." && x.toLowerCase() !== ".git"), `seed ${seed}: ${c.path}`).toBe(true);
              expect(c.path.toLowerCase().startsWith(".github/workflows/"), `seed ${seed}: ${c.path}`).toBe(false);
            }
          } else {
            expect(changes, `seed ${seed}`).toEqual([]);
          }
          expect(out.data?.["toolRounds"], `seed ${seed}`).toBeGreaterThanOrEqual(1);
        } else {
          outcomes.failed += 1;
          expect(failure, `seed ${seed}: ${String(failure)}`).toBeInstanceOf(Error);
          const e = failure as Error;
          expect(["NonRetriableError", "BudgetExceededError"], `seed ${seed}: ${e.name}: ${e.message}\n${e.stack}`).toContain(e.name);
          expect(e.message.length, `seed ${seed}`).toBeGreaterThan(20);
        }
      }
      // the generator reaches both ends: some runs succeed (with applied edits for generate), some fail with a reason
      expect(outcomes.succeeded).toBeGreaterThan(0);
      expect(outcomes.failed).toBeGreaterThan(0);
      if (result === "edits") expect(outcomes.applied).toBeGreaterThan(0);
    }, 120_000);
  }
});

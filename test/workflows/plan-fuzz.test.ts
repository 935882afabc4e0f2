/**
 * Property: every template the schema and the validator accept plans without throwing, into a graph
 * the engine can run — unique ids, needs that point backwards, no cycle, prompts and conditions whose
 * step references are upstream (after loop rows are rewritten), and loops unrolled to 2·max+1 rows.
 * Steps are random instances of the editor JSON Schema (json-schema-faker, seeded), with ids, needs,
 * roles and references nudged so that most templates are valid.
 */
import { generateSync } from "json-schema-faker";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { stepSchema } from "../../src/config/template-schema.ts";
import { ConfigError } from "../../src/errors/config-error.ts";
import { ancestors, findCycle } from "../../src/workflows/dag.ts";
import { checkConditionRefs, parseCondition } from "../../src/workflows/expression.ts";
import { checkWorkflowTemplate } from "../../src/workflows/load-template.ts";
import { planRun } from "../../src/workflows/plan.ts";
import { checkPromptVariables } from "../../src/workflows/render-prompt.ts";
import { BUILTIN_ROLES } from "../../src/workflows/types.ts";
import { issueTrigger } from "./fakes/triggers.ts";

/** mulberry32: a failing seed can be replayed. */
function prng(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

/** Long strings only cost time here: the schema's 20,000-character prompts are capped at 200. */
function capStrings(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(capStrings);
  if (node === null || typeof node !== "object") return node;
  const out = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, capStrings(v)]));
  if (typeof out["maxLength"] === "number") out["maxLength"] = Math.min(out["maxLength"], 200);
  return out;
}

const STEP_JSON_SCHEMA = capStrings(z.toJSONSchema(stepSchema, { io: "input", unrepresentable: "any" })) as Parameters<typeof generateSync>[0];

type Raw = Record<string, unknown>;

function randomTemplate(seed: number): unknown {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const count = 1 + Math.floor(random() * 6);
  const steps: Raw[] = [];
  const needable: string[] = [];
  for (let i = 0; i < count; i++) {
    const step = generateSync(STEP_JSON_SCHEMA, { seed: seed * 100 + i, maxItems: 3, optionalsProbability: 0.5 }) as Raw;
    step["id"] = `s${i}`;
    const needs = needable.filter(() => random() < 0.4);
    if (needs.length > 0) step["needs"] = needs;
    else delete step["needs"];
    const refs = needs.map((n) => `{{ steps.${n}.${pick(["output", "status"])} }}`).join(" ");
    if (step["if"] !== undefined) {
      if (needs.length > 0 && random() < 0.7) step["if"] = `steps.${pick(needs)}.status == 'succeeded' || inputs.mode != 'x'`;
      else delete step["if"];
    }
    if (typeof step["prompt"] === "string") {
      step["role"] = random() < 0.95 ? pick(BUILTIN_ROLES) : step["role"];
      step["prompt"] = `${(step["prompt"] as string).slice(0, 40)} ${refs}`;
    }
    if (step["loop"] === undefined && random() < 0.2) step["approval"] = pick([true, false, { permission: pick(["write", "maintain", "admin"]) }, {}]);
    const loop = step["loop"] as { fix?: Raw } | undefined;
    if (loop?.fix) {
      loop.fix["role"] = pick(BUILTIN_ROLES);
      loop.fix["prompt"] = `Fix: {{ steps.s${i}.output }} {{ steps.s${i}.status }} ${refs}`;
    } else needable.push(`s${i}`);
    steps.push(step);
  }
  return { name: "fuzz", inputs: { mode: { default: "y" } }, steps };
}

const SEEDS = 300;

describe("random schema-valid templates", () => {
  it(`${SEEDS} seeded templates: every accepted one plans into a runnable graph`, () => {
    const tally = { accepted: 0, refused: 0, loops: 0, uses: 0, approvals: 0 };
    for (let seed = 1; seed <= SEEDS; seed++) {
      const input = randomTemplate(seed);
      let template;
      try {
        template = checkWorkflowTemplate(input, `seed ${seed}`);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        tally.refused++;
        continue;
      }
      tally.accepted++;
      const plan = planRun(template, issueTrigger());
      const ids = plan.steps.map((s) => s.id);
      expect(new Set(ids).size, `seed ${seed}: unique ids`).toBe(ids.length);
      plan.steps.forEach((step, index) => {
        for (const need of step.needs) expect(ids.indexOf(need), `seed ${seed}: ${step.id} needs ${need}`).toBeGreaterThanOrEqual(0);
        for (const need of step.needs) expect(ids.indexOf(need), `seed ${seed}: ${step.id} needs an earlier row`).toBeLessThan(index);
      });
      expect(findCycle(plan.steps), `seed ${seed}`).toBeUndefined();

      const upstream = ancestors(plan.steps);
      const known = (id: string) => ({ inputs: new Set(Object.keys(plan.inputs)), upstream: upstream.get(id) ?? new Set<string>(), steps: new Set<string>(ids) });
      for (const step of plan.steps) {
        expect(checkPromptVariables(step.prompt, known(step.id)), `seed ${seed}: prompt of ${step.id}`).toEqual([]);
        if (step.if !== undefined) expect(checkConditionRefs(parseCondition(step.if), known(step.id)), `seed ${seed}: if of ${step.id}`).toEqual([]);
        if (step.uses) {
          tally.uses++;
          expect(step, `seed ${seed}: ${step.id}`).toMatchObject({ role: step.uses.kind, prompt: "", output: "none", retries: 0 });
        }
        if (step.approval) tally.approvals++;
      }
      for (const source of template.steps) {
        if (source.kind !== "loop") continue;
        tally.loops++;
        const rows = plan.steps.filter((s) => s.loop?.id === source.id);
        expect(rows).toHaveLength(2 * source.loop.max + 1);
        rows.forEach((row, r) => {
          const k = Math.floor(r / 2) + 1;
          const kind = r % 2 === 0 ? "verify" : "fix";
          expect(row.id).toBe(kind === "verify" ? `${source.id}-${k}` : `${source.id}-fix-${k}`);
          expect(row.loop).toEqual({ id: source.id, iteration: k, max: source.loop.max, kind });
          if (kind === "fix") {
            expect(row.if).toBe(`steps.${source.id}-${k}.status == 'failed'`);
            expect(row.prompt).toContain(`{{ steps.${source.id}-${k}.output }}`);
          } else expect(row.uses).toEqual(source.loop.verify.use);
        });
      }
    }
    // The generator must reach every shape, and most templates must be valid, or the property says little.
    expect(tally.accepted).toBeGreaterThan(SEEDS * 0.6);
    expect(Math.min(tally.loops, tally.uses, tally.approvals)).toBeGreaterThan(20);
  });
});

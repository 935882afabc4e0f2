/** Which gate answers which `uses:` kind, and what a process without one says. */
import { describe, expect, it } from "vitest";
import { COMMAND_STEPS_REFUSED, routeStepGates } from "../../src/compose/route-step-gates.ts";
import type { GateRequest, StepGates } from "../../src/workflows/ports.ts";
import { asStepId, type PlannedStep, type RunRecord, type StepUse } from "../../src/workflows/types.ts";

const request = (uses: StepUse): GateRequest => {
  const step: PlannedStep = { id: asStepId("check"), name: "check", role: uses.kind, prompt: "", needs: [], retries: 0, timeoutMs: 1000, output: "none", uses };
  return { run: {} as RunRecord, step, record: { runId: "r" as RunRecord["id"], stepId: step.id, status: "running", attempts: 1 }, steps: [], upstream: {}, signal: new AbortController().signal };
};
const ci: StepUse = { kind: "ci", noChecksAfterMs: 1000 };
const command: StepUse = { kind: "command", command: "test" };
const named = (text: string): StepGates => ({ check: async () => ({ kind: "passed", output: { text, usage: { inputTokens: 0, outputTokens: 0, cachedTokens: 0 }, costUsd: 0 } }) });

describe("routeStepGates", () => {
  it("the App: CI through its gate, command steps refused with the D15 reason", async () => {
    const app = routeStepGates({ ci: named("github ci") });
    expect(await app.check(request(ci))).toMatchObject({ kind: "passed", output: { text: "github ci" } });
    expect(await app.check(request(command))).toEqual({ kind: "failed", error: `step "check": ${COMMAND_STEPS_REFUSED}` });
    expect(await routeStepGates({}).check(request(ci))).toEqual({ kind: "failed", error: 'step "check": this Octoflow process has no CI gate' });
  });

  it("the CLI: both kinds through the checkout gate; without a checkout, command steps fail and CI ends neutral, saying why", async () => {
    const cli = routeStepGates({ ci: named("checkout"), command: named("checkout") });
    expect(await cli.check(request(command))).toMatchObject({ kind: "passed", output: { text: "checkout" } });
    const none = routeStepGates({ noCommand: "cannot run a command step: no clone here", noCi: { kind: "neutral", reason: "no tests were run: no clone here" } });
    expect(await none.check(request(command))).toEqual({ kind: "failed", error: 'step "check": cannot run a command step: no clone here' });
    expect(await none.check(request(ci))).toMatchObject({ kind: "passed", output: { text: "no tests were run: no clone here", data: { conclusion: "neutral" } } });
  });
});

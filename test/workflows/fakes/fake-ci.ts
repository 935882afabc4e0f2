/**
 * A working fake of a repository's CI for engine tests: every push of new producing steps makes a
 * commit `sha-<n>`; its checks stay pending until the test reports them. The gate waits on the pushed
 * head like the GitHub one does, and can be told to fail transiently.
 */
import { ExternalServiceError } from "../../../src/errors/external-service-error.ts";
import type { GateRequest, GateResult, PushedHead, RunOutputs, StepGates } from "../../../src/workflows/ports.ts";
import { asStepId, type PlannedStep } from "../../../src/workflows/types.ts";

export const POLL_MS = 60_000;

export function fakeCi(results = new Map<string, "success" | "failure">()) {
  const pushes: string[][] = [];
  const checks: GateRequest[] = [];
  let transientFailures = 0;
  const outputs: RunOutputs = {
    async deliver() {
      return { results: [], notes: [], findings: 0 };
    },
    async push(_run, steps): Promise<PushedHead | undefined> {
      const produced = steps.filter((s) => s.status === "succeeded" && s.output?.text.startsWith("change")).map((s) => String(s.stepId));
      if (produced.length === 0) return undefined;
      if (pushes.at(-1)?.join() !== produced.join()) pushes.push(produced);
      return { sha: `sha-${pushes.length}`, branch: "octoflow/42-dark-mode" };
    },
  };
  const gates: StepGates = {
    async check(request): Promise<GateResult> {
      checks.push(request);
      if (transientFailures > 0) {
        transientFailures--;
        throw new ExternalServiceError("GitHub answered 502 Bad Gateway", { service: "github", retriable: true, status: 502 });
      }
      const sha = request.head?.sha;
      if (!sha) return { kind: "passed", output: { text: "nothing was pushed", usage: { inputTokens: 0, outputTokens: 0, cachedTokens: 0 }, costUsd: 0, data: { conclusion: "neutral" } } };
      const result = results.get(sha);
      const none = { inputTokens: 0, outputTokens: 0, cachedTokens: 0 };
      if (result === "success") return { kind: "passed", output: { text: `CI passed on ${sha}`, usage: none, costUsd: 0 } };
      const report = `CI failed on ${sha}: test (ubuntu) — expected 2, got 3 at src/sum.ts:4`;
      if (result === "failure") return { kind: "failed", error: report, output: { text: report, usage: none, costUsd: 0, data: { failing: ["test (ubuntu)"] } } };
      return { kind: "wait", key: `ci:${sha}`, message: `waiting for CI on ${sha}`, wakeAt: Date.now() + POLL_MS };
    },
  };
  return { results, pushes, checks, outputs, gates, failNextChecks: (n: number) => (transientFailures = n) };
}

/** A `uses: ci` step as the planner makes it. */
export const ciStep = (id: string, extra: Partial<PlannedStep> = {}): PlannedStep => ({
  id: asStepId(id),
  name: id,
  role: "ci",
  prompt: "",
  needs: [],
  retries: 0,
  timeoutMs: 3_600_000,
  output: "none",
  uses: { kind: "ci", noChecksAfterMs: 600_000 },
  ...extra,
});


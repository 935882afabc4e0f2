/**
 * Which step gates a process has (DESIGN D14, D15): the App waits for the repository's CI and never
 * runs repository code; the CLI and the Action run commands in the runner's checkout. Every
 * `uses:` kind without a gate here fails its step with a sentence that says why.
 */
import type { GateResult, StepGates } from "../workflows/ports.ts";

/** Why a `uses: command` step fails in the App. */
export const COMMAND_STEPS_REFUSED = "command steps run only in the CLI and the Action: the App never executes repository code";

export interface StepGateRoutes {
  /** `uses: ci`. */
  ci?: StepGates;
  /** `uses: command`. */
  command?: StepGates;
  /** The reason a `uses: command` step fails when `command` is absent (default: `COMMAND_STEPS_REFUSED`). */
  noCommand?: string;
  /** What a `uses: ci` step ends with when `ci` is absent: failed (default) or neutral with this reason. */
  noCi?: { kind: "failed" | "neutral"; reason: string };
}

/**
 * One `StepGates` over a gate per `uses:` kind.
 *
 * @example
 * // the App: CI from GitHub, commands refused
 * routeStepGates({ ci: githubCiGate });
 * // the CLI: both from the checkout
 * routeStepGates({ ci: checkoutGates, command: checkoutGates });
 */
export function routeStepGates(routes: StepGateRoutes): StepGates {
  return {
    async check(request): Promise<GateResult> {
      const kind = request.step.uses?.kind;
      if (kind === "command") {
        if (routes.command) return routes.command.check(request);
        return { kind: "failed", error: `step "${request.step.id}": ${routes.noCommand ?? COMMAND_STEPS_REFUSED}` };
      }
      if (kind === "ci") {
        if (routes.ci) return routes.ci.check(request);
        const reason = routes.noCi?.reason ?? "this Octoflow process has no CI gate";
        if (routes.noCi?.kind === "neutral") return { kind: "passed", output: { text: reason, usage: { inputTokens: 0, outputTokens: 0, cachedTokens: 0 }, costUsd: 0, data: { conclusion: "neutral" } } };
        return { kind: "failed", error: `step "${request.step.id}": ${reason}` };
      }
      return { kind: "failed", error: `step "${request.step.id}" uses ${String(kind)}, which this Octoflow process cannot run` };
    },
  };
}

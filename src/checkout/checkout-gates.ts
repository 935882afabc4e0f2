/**
 * The step gates of the CLI and the Action (DESIGN D15): where the runner has a checkout of the
 * repository, `uses: command` runs `checkout.commands.<name>` of `.github/octoflow.yml` in a throw-away
 * copy of it with the run's change written in, and `uses: ci` runs `checkout.commands.test`. A command
 * never waits: it passes (exit 0) or fails with its output's tail, which a fix step reads.
 */
import type { Logger } from "pino";
import type { RepoConfig } from "../config/repo-config.ts";
import { scrubSecrets } from "../security/scrub-secrets.ts";
import type { GateRequest, GateResult, StepGates } from "../workflows/ports.ts";
import type { RunRecord, StepOutput } from "../workflows/types.ts";
import type { WorkspaceService } from "../workspace/run-workspaces.ts";
import { commandEnv } from "./command-env.ts";
import { checkoutHead, prepareCheckout } from "./prepare-checkout.ts";
import { DEFAULT_MAX_OUTPUT_BYTES, runCommand, type CommandResult } from "./run-command.ts";

/** What `uses: ci` runs where there is a checkout. */
export const CI_COMMAND = "test";
/** Lines of output a passing command's report shows. */
const PASSED_TAIL_LINES = 20;

export interface CheckoutGatesDeps {
  /** The runner's checkout of the repository (the working directory, or `GITHUB_WORKSPACE`). */
  dir: string;
  workspaces: Pick<WorkspaceService, "changesBefore">;
  /** The repository's `checkout:` configuration (from its default branch). */
  configOf(run: RunRecord): Promise<RepoConfig["checkout"]>;
  /** The environment the commands' environment is made from (secrets withheld, see `commandEnv`). */
  env: Readonly<Record<string, string | undefined>>;
  /** Absolute paths inside the checkout that are not copied (Octoflow's own database). */
  exclude?: readonly string[];
  maxOutputBytes?: number;
  tmpRoot?: string;
  log?: Pick<Logger, "info" | "warn">;
}

const NO_USAGE = { inputTokens: 0, outputTokens: 0, cachedTokens: 0 };

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

/** A code fence that the text cannot close. */
function fenced(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  return `${fence}text\n${text.replace(/\n+$/, "")}\n${fence}`;
}

function lastLines(text: string, count: number): string {
  const lines = text.replace(/\n+$/, "").split("\n");
  return lines.slice(-count).join("\n");
}

function outcomeOf(result: CommandResult, line: string, timeoutMs: number): string {
  if (result.timedOut) return `\`${line}\` timed out after ${seconds(timeoutMs)}; its process group was killed`;
  if (result.aborted) return `\`${line}\` was stopped (the run was cancelled)`;
  if (result.exitCode === null) return `\`${line}\` was ended by ${result.signal ?? "a signal"} after ${seconds(result.durationMs)}`;
  return `\`${line}\` ${result.exitCode === 0 ? "passed" : `failed with exit code ${result.exitCode}`} in ${seconds(result.durationMs)}`;
}

/**
 * @example
 * const gates = createCheckoutGates({ dir: process.cwd(), workspaces, configOf: async (run) => (await setups.load(client, run.trigger.repo)).config.checkout, env: process.env });
 */
export function createCheckoutGates(deps: CheckoutGatesDeps): StepGates {
  const maxOutputBytes = deps.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;

  const neutral = (text: string): GateResult => ({ kind: "passed", output: { text, usage: NO_USAGE, costUsd: 0, data: { conclusion: "neutral" } } });

  return {
    async check(request: GateRequest): Promise<GateResult> {
      const { run, step, signal } = request;
      const use = step.uses;
      if (!use) return { kind: "failed", error: `step "${step.id}" names nothing to run` };
      const name = use.kind === "command" ? use.command : CI_COMMAND;
      const config = await deps.configOf(run);
      const line = Object.hasOwn(config.commands, name) ? config.commands[name] : undefined;
      if (line === undefined) {
        const where = `checkout.commands.${name} in .github/octoflow.yml`;
        if (use.kind === "ci") return neutral(`no test command configured (${where}): nothing was tested`);
        return { kind: "failed", error: `no command "${name}" is configured (${where})` };
      }

      const { baseSha, changes } = await deps.workspaces.changesBefore({ runId: String(run.id), trigger: run.trigger, plan: run.plan, step, upstream: request.upstream });
      const head = await checkoutHead(deps.dir);
      const checkout = await prepareCheckout(deps.dir, changes, { ...(deps.tmpRoot ? { tmpRoot: deps.tmpRoot } : {}), ...(deps.exclude ? { exclude: deps.exclude } : {}) });
      let result: CommandResult;
      try {
        deps.log?.info({ runId: run.id, stepId: step.id, command: name, changedFiles: changes.length }, "running a command step");
        result = await runCommand({ command: line, cwd: checkout.dir, env: commandEnv(deps.env, config.env), timeoutMs: step.timeoutMs, maxOutputBytes, signal });
      } finally {
        await checkout.dispose().catch((error: unknown) => deps.log?.warn({ err: error, dir: checkout.dir }, "could not remove a command step's checkout"));
      }
      if (result.aborted && signal.aborted) throw signal.reason ?? new Error("cancelled");

      const passed = result.exitCode === 0 && !result.timedOut;
      const summary = outcomeOf(result, line, step.timeoutMs);
      const files = changes.length === 1 ? "1 changed file" : `${changes.length} changed files`;
      const base = `in a copy of the checkout with the run's ${files}`;
      const note = head && head !== baseSha ? `\n\nNote: the checkout is at ${head.slice(0, 7)}, the run's base is ${baseSha.slice(0, 7)}; files the run did not change are as in the checkout.` : "";
      const output = scrubSecrets(result.output);
      const cut = result.droppedBytes > 0 ? `(the first ${result.droppedBytes.toLocaleString("en-US")} bytes of output were cut; the last ${maxOutputBytes.toLocaleString("en-US")} are kept)\n` : "";
      const tail = passed ? lastLines(output, PASSED_TAIL_LINES) : output;
      const text = `${summary} (${base}).${note}${tail.trim() === "" ? "\n\nNo output." : `\n\n${passed ? "Last lines of output" : "Output"}:\n${cut}${fenced(tail)}`}`;
      const data = {
        conclusion: passed ? "success" : "failure",
        command: name,
        run: line,
        exitCode: result.exitCode,
        ...(result.signal ? { signal: result.signal } : {}),
        timedOut: result.timedOut,
        durationMs: result.durationMs,
        droppedBytes: result.droppedBytes,
        changedFiles: changes.length,
      };
      const stepOutput: StepOutput = { text, usage: NO_USAGE, costUsd: 0, data };
      return passed ? { kind: "passed", output: stepOutput } : { kind: "failed", error: summary, output: stepOutput };
    },
  };
}

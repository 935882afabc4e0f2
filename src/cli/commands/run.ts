/**
 * `octoflow run <workflow> --repo owner/name (--issue N | --pr N)`: one workflow run from a
 * terminal, with the app's engine, agents, reporters and outputs, authenticated by a token.
 */
import { ConfigError } from "../../errors/config-error.ts";
import { createRepoSetupLoader, type RepoSetup } from "../../github/repo-setup-loader.ts";
import { scrubSecrets } from "../../observability/logger.ts";
import { loadBuiltinTemplates } from "../../workflows/load-template.ts";
import { planRun } from "../../workflows/plan.ts";
import { systemClock } from "../../workflows/ports.ts";
import type { RunPlan, RunRecord, Trigger } from "../../workflows/types.ts";
import type { CliCommand, CliIo } from "../cli-io.ts";
import { missingModelCredentials } from "../check-model-credentials.ts";
import { createCliLogger } from "../cli-logger.ts";
import { asGitHubClient, createCliRuntime, type CliRuntime } from "../cli-runtime.ts";
import { createRestClient, githubApiUrl, type CliOctokit } from "../create-rest-client.ts";
import { EXIT } from "../exit-codes.ts";
import { fetchTarget } from "../fetch-target.ts";
import { describePlan, formatPlanTable } from "../format-plan.ts";
import { onInterrupt } from "../interrupt.ts";
import { cliEnvSource, loadCliEnv } from "../load-cli-env.ts";
import { openCliBackend } from "../open-cli-backend.ts";
import { parseRunArgs, resolveToken, RUN_USAGE, type RunArgs } from "../parse-run-args.ts";
import { progressOutput } from "../terminal.ts";
import { createTerminalProgress } from "../terminal-progress.ts";
import { UsageError } from "../../errors/usage-error.ts";
import { githubWebUrl, runLinksOf } from "../web-url.ts";
import { TargetError } from "../../errors/target-error.ts";
import { findCheckout } from "../find-checkout.ts";
import { resolve } from "node:path";

/** Prints a usage error: the usage line, then the reason. */
export function printUsageError(io: CliIo, command: string, error: UsageError | ConfigError): number {
  const usage = error instanceof UsageError ? error.usage : RUN_USAGE;
  io.stderr(`${usage}\noctoflow ${command}: ${scrubSecrets(error.message)}\n`);
  return EXIT.usage;
}

/** Everything decided before the first request: nothing has touched the network yet. */
interface Prepared {
  args: RunArgs;
  env: ReturnType<typeof loadCliEnv>;
  token: string;
  apiUrl: string;
}

function prepare(argv: string[], io: CliIo): Prepared {
  const args = parseRunArgs(argv);
  const source = cliEnvSource(io);
  const token = resolveToken(source, RUN_USAGE);
  let apiUrl: string;
  try {
    apiUrl = githubApiUrl(source);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), RUN_USAGE);
  }
  const env = loadCliEnv(io, { OCTOFLOW_MODEL: args.model });
  return { args, env, token, apiUrl };
}

/** Reads the target, the repository's setup (default branch) and plans the workflow: GETs only. */
async function planFor(octokit: CliOctokit, args: RunArgs, io: CliIo): Promise<{ trigger: Trigger; setup: RepoSetup; plan: RunPlan }> {
  const trigger = await fetchTarget(octokit, {
    owner: args.owner,
    repo: args.repo,
    number: args.number,
    isPullRequest: args.isPullRequest,
    inputs: args.inputs,
    kind: "cli",
    ...(io.env.GITHUB_ACTOR ? { fallbackActor: io.env.GITHUB_ACTOR } : {}),
  });
  const setups = createRepoSetupLoader({ builtins: loadBuiltinTemplates(), clock: systemClock });
  const setup = await setups.load(asGitHubClient(octokit), trigger.repo);
  const loaded = setup.catalog.get(args.workflow);
  if (!loaded) {
    throw new UsageError(`unknown workflow "${args.workflow}" (known in ${args.owner}/${args.repo}: ${setup.catalog.names().join(", ")})`, RUN_USAGE);
  }
  try {
    return { trigger, setup, plan: planRun(loaded.template, trigger, { repoConfig: setup.config }) };
  } catch (error) {
    // The workflow cannot run as asked (a missing or unknown --input, a role it lacks): nothing started.
    if (error instanceof ConfigError) throw new UsageError(`${args.workflow} cannot run as asked: ${error.problems.join("; ")}`, RUN_USAGE);
    throw error;
  }
}

function printDryRun(io: CliIo, plan: RunPlan, trigger: Trigger, model: string): void {
  const kind = trigger.isPullRequest ? "pull request" : "issue";
  io.stdout(`${plan.workflow} · ${trigger.repo.owner}/${trigger.repo.name}#${trigger.number} (${kind}) · default model ${model} · dry run: nothing is written\n`);
  if (Object.keys(plan.inputs).length > 0) {
    io.stdout(`inputs: ${Object.entries(plan.inputs).map(([k, v]) => `${k}=${v}`).join(" ")}\n`);
  }
  io.stdout(formatPlanTable(describePlan(plan, trigger, model)));
}

/** Cancels runs of the same concurrency group still marked active (left by a killed process). */
async function replaceActive(runtime: CliRuntime, plan: RunPlan, io: CliIo): Promise<void> {
  for (const active of await runtime.store.findActiveRuns(plan.concurrency.group)) {
    await runtime.engine.cancel(active.id, "replaced by a new run from the command line");
    io.stderr(`octoflow: cancelled earlier run ${active.id} (${active.status})\n`);
  }
}

/**
 * Runs `octoflow run`; resolves to the exit code.
 *
 * @example
 * const code = await runWorkflow(["bug-fix", "--repo", "acme/api", "--issue", "12"], processIo());
 */
export async function runWorkflow(argv: string[], io: CliIo): Promise<number> {
  let prepared: Prepared;
  try {
    prepared = prepare(argv, io);
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) return printUsageError(io, "run", error);
    throw error;
  }
  const { args, env, token, apiUrl } = prepared;
  const octokit = createRestClient({ token, baseUrl: apiUrl, readOnly: args.dryRun, warnings: io.stderr, throttle: io.env.OCTOFLOW_GITHUB_THROTTLE !== "off" });

  let planned;
  try {
    planned = await planFor(octokit, args, io);
  } catch (error) {
    if (error instanceof UsageError) return printUsageError(io, "run", error);
    if (error instanceof TargetError) {
      io.stderr(`octoflow run: ${error.message}\n`);
      return EXIT.failed;
    }
    if (error instanceof ConfigError) {
      io.stderr(`octoflow run: ${scrubSecrets(error.message)}\n`);
      return EXIT.failed;
    }
    throw error;
  }
  const { trigger, plan } = planned;
  const missing = missingModelCredentials(plan, env);
  if (args.dryRun) {
    printDryRun(io, plan, trigger, env.OCTOFLOW_MODEL);
    for (const problem of missing) io.stderr(`octoflow: warning: ${problem}\n`);
    return EXIT.ok;
  }
  if (missing.length > 0) return printUsageError(io, "run", new UsageError(`set the model credentials first: ${missing.join("; ")}`, RUN_USAGE));
  const gated = plan.steps.filter((step) => step.approval).map((step) => String(step.id));
  if (gated.length > 0 && !args.approve) {
    return printUsageError(io, "run", new UsageError(`${plan.workflow} asks for an approval before ${gated.join(", ")}, and the CLI cannot wait for one: pass --approve to approve in advance (or start it in the App)`, RUN_USAGE));
  }
  const found = await findCheckout({ dir: args.checkout ? resolve(io.cwd, args.checkout) : io.cwd, owner: args.owner, name: args.repo, explicit: args.checkout !== undefined });
  if (found.dir === undefined && plan.steps.some((step) => step.uses?.kind === "command")) {
    return printUsageError(io, "run", new UsageError(`${plan.workflow} has command steps, which run in a checkout of the repository: ${found.missing ?? "none found"}`, RUN_USAGE));
  }

  const backend = await openCliBackend(io);
  if (!backend) throw new Error("the run store could not be opened");
  const terminal = createTerminalProgress({ out: progressOutput(io, args.progress) });
  // log lines go above the live table, never into the middle of a redraw
  const log = createCliLogger((text) => terminal.printAbove(text), io.env.LOG_LEVEL);
  const runtime = createCliRuntime({ env, log, octokit, backend, terminal, checkout: { ...found, env: io.env } });
  const interrupt = onInterrupt(io);
  try {
    if (args.replace) await replaceActive(runtime, plan, io);
    const run = await runtime.runs.start(plan, trigger);
    io.stderr(`octoflow: ${plan.workflow} on ${trigger.repo.owner}/${trigger.repo.name}#${trigger.number} · run ${run.id}\n`);
    let finished: RunRecord;
    try {
      finished = await runtime.execute(run, interrupt.signal, args.approve ? { approveAs: trigger.actor } : {});
    } catch (error) {
      io.stderr(`octoflow run: ${scrubSecrets(error instanceof Error ? error.message : String(error))}\n`);
      return EXIT.failed;
    }
    const links = runLinksOf(githubWebUrl(io.env, apiUrl), finished);
    io.stdout(`${finished.status}: ${plan.workflow} on ${trigger.repo.owner}/${trigger.repo.name}#${trigger.number} (run ${finished.id})${links.length > 0 ? `\n  ${links.join("\n  ")}` : ""}\n`);
    if (finished.status === "succeeded") return EXIT.ok;
    if (finished.status === "cancelled") {
      io.stderr(`octoflow run: cancelled${finished.error ? `: ${scrubSecrets(oneLine(finished.error))}` : ""}\n`);
      return interrupt.signal.aborted ? EXIT.cancelled : EXIT.failed;
    }
    io.stderr(`octoflow run: run failed: ${scrubSecrets(oneLine(finished.error ?? "a step failed"))}\n`);
    return EXIT.failed;
  } finally {
    interrupt.dispose();
    await runtime.close();
  }
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim().slice(0, 500);
}

/** `octoflow run`, as registered in `src/cli/main.ts`. */
export const runCommand: CliCommand = {
  summary: "Run a workflow on an issue or pull request (token auth, live progress)",
  usage: RUN_USAGE,
  run: runWorkflow,
};

/**
 * `octoflow action`: the GitHub Action's entry point. It maps the Actions event to the app's
 * triggers — the same handlers, trust gate, configuration and outputs — or, with the `workflow`
 * input, runs that workflow on the event's issue or pull request; then executes the runs here.
 */
import { ConfigError } from "../../errors/config-error.ts";
import type { RunControl } from "../../github/run-control.ts";
import { scrubSecrets } from "../../observability/logger.ts";
import { planRun } from "../../workflows/plan.ts";
import type { RunRecord } from "../../workflows/types.ts";
import { ACTION_USAGE, readActionsEvent, targetOfEvent, type ActionsEvent } from "../actions-event.ts";
import type { CliCommand, CliIo } from "../cli-io.ts";
import { createCliLogger } from "../cli-logger.ts";
import { asGitHubClient, createCliRuntime, type CliRuntime } from "../cli-runtime.ts";
import { createRestClient, githubApiUrl, type CliOctokit } from "../create-rest-client.ts";
import { dispatchWebhook } from "../dispatch-webhook.ts";
import { EXIT } from "../exit-codes.ts";
import { fetchTarget } from "../fetch-target.ts";
import { onInterrupt } from "../interrupt.ts";
import { cliEnvSource, loadCliEnv } from "../load-cli-env.ts";
import { openCliBackend } from "../open-cli-backend.ts";
import { resolveToken } from "../parse-run-args.ts";
import { progressOutput } from "../terminal.ts";
import { createTerminalProgress } from "../terminal-progress.ts";
import { UsageError } from "../../errors/usage-error.ts";
import { githubWebUrl, runLinksOf } from "../web-url.ts";
import { TargetError } from "../../errors/target-error.ts";
import { findCheckout } from "../find-checkout.ts";

interface Context {
  event: ActionsEvent;
  octokit: CliOctokit;
  runtime: CliRuntime;
  io: CliIo;
}

/** Runs the `workflow` input on the event's issue or pull request, behind the same trust gate. */
async function startExplicit(ctx: Context, workflow: string, runs: RunControl): Promise<string | undefined> {
  const { event, octokit } = ctx;
  const target = targetOfEvent(event);
  if (!target) return `the ${event.name} event names no issue or pull request (workflow_dispatch: give an "issue" or "pr" input)`;
  const repository = event.payload.repository as { owner?: { login?: string }; name?: string } | undefined;
  const sender = event.payload.sender as { login?: string; type?: string } | undefined;
  const owner = repository?.owner?.login;
  const name = repository?.name;
  if (!owner || !name) return `the ${event.name} event has no repository`;
  const actor = sender?.login ?? ctx.io.env.GITHUB_ACTOR ?? "github-actions";
  const trigger = await fetchTarget(octokit, { owner, repo: name, number: target.number, isPullRequest: target.isPullRequest, inputs: event.inputs, kind: "manual", actor });
  const client = asGitHubClient(octokit);
  const { setups, gate } = ctx.runtime.handlerDeps;
  const setup = await setups.load(client, trigger.repo);
  const loaded = setup.catalog.get(workflow);
  if (!loaded) throw new UsageError(`workflow: unknown workflow "${workflow}" (known: ${setup.catalog.names().join(", ")})`, ACTION_USAGE);
  const decision = await gate.check(client, trigger.repo, { login: actor, type: sender?.type ?? "User" }, setup.config.trust);
  if (!decision.allowed) {
    return decision.reason === "bot" ? `${actor} is a bot that is not in trust.allowBots` : `${actor} has ${decision.permission} access; ${decision.required} is required to start runs`;
  }
  await runs.start(planRun(loaded.template, trigger, { repoConfig: setup.config }), trigger);
  return undefined;
}

/** The job's checkout (`GITHUB_WORKSPACE`, filled by actions/checkout), where command steps run. */
async function actionCheckout(io: CliIo): Promise<{ dir: string | undefined; missing?: string }> {
  const workspace = io.env.GITHUB_WORKSPACE?.trim();
  const hint = "add `- uses: actions/checkout@v4` before Octoflow's step to run command steps";
  if (!workspace) return { dir: undefined, missing: `GITHUB_WORKSPACE is not set: ${hint}` };
  const [owner = "", name = ""] = (io.env.GITHUB_REPOSITORY ?? "").split("/");
  const found = await findCheckout({ dir: workspace, owner, name, explicit: true, what: "GITHUB_WORKSPACE" });
  return found.dir === undefined ? { dir: undefined, missing: `${found.missing ?? "no checkout"}: ${hint}` } : { dir: found.dir };
}

/**
 * Runs the Action; resolves to the exit code.
 *
 * @example
 * // action.yml: node "$GITHUB_ACTION_PATH/bin/octoflow.js" action
 * process.exitCode = await runAction([], processIo());
 */
export async function runAction(argv: string[], io: CliIo): Promise<number> {
  let event: ActionsEvent;
  let token: string;
  let apiUrl: string;
  let env;
  try {
    if (argv.length > 0) throw new UsageError(`unexpected argument "${argv[0]}"`, ACTION_USAGE);
    const source = cliEnvSource(io);
    event = readActionsEvent(source);
    token = resolveToken(source, ACTION_USAGE);
    apiUrl = githubApiUrl(source);
    env = loadCliEnv(io);
  } catch (error) {
    // Outside Actions, bad action inputs, no token, an invalid GITHUB_API_URL or environment (ConfigError).
    if (error instanceof Error) {
      io.stderr(`${error instanceof UsageError ? error.usage : ACTION_USAGE}\noctoflow action: ${scrubSecrets(error.message)}\n`);
      return EXIT.usage;
    }
    throw error;
  }
  const octokit = createRestClient({ token, baseUrl: apiUrl, warnings: io.stderr, throttle: io.env.OCTOFLOW_GITHUB_THROTTLE !== "off" });
  const backend = await openCliBackend(io);
  if (!backend) throw new Error("the run store could not be opened");
  const terminal = createTerminalProgress({ out: progressOutput(io) });
  const log = createCliLogger((text) => terminal.printAbove(text), io.env.LOG_LEVEL); // above the live table
  const runtime = createCliRuntime({ env, log, octokit, backend, terminal, checkout: { ...(await actionCheckout(io)), env: io.env } });
  const { store } = runtime;
  const ctx: Context = { event, octokit, runtime, io };
  const interrupt = onInterrupt(io);

  // Runs the handlers start or retry are collected and executed here, one after the other.
  const toExecute: RunRecord[] = [];
  const runs: RunControl = {
    async start(plan, trigger) {
      const run = await runtime.runs.start(plan, trigger);
      toExecute.push(run);
      return run;
    },
    cancel: (runId, reason) => runtime.runs.cancel(runId, reason),
    async retry(runId) {
      const ok = await runtime.runs.retry(runId);
      const run = ok ? await store.getRun(runId) : undefined;
      if (run) toExecute.push(run);
      return ok;
    },
    async approve(runId, actor, stepId) {
      // An approved run goes on here, like a retried one.
      const approved = await runtime.runs.approve(runId, actor, stepId);
      const run = approved.length > 0 ? await store.getRun(runId) : undefined;
      if (run && !toExecute.some((r) => r.id === run.id)) toExecute.push(run);
      return approved;
    },
  };

  try {
    let reason: string | undefined;
    try {
      if (event.workflow) {
        reason = await startExplicit(ctx, event.workflow, runs);
      } else {
        const deps = { ...runtime.handlerDeps, runs };
        const outcome = await dispatchWebhook(deps, { name: event.name, id: event.deliveryId, payload: event.payload }, asGitHubClient(octokit), log);
        if (outcome.kind === "not-subscribed") reason = `Octoflow does not act on ${event.name} events (set the workflow input to run one on every event)`;
        else if (outcome.kind === "no-handler") reason = `Octoflow does not act on ${outcome.key}`;
        else if (toExecute.length === 0) reason = `nothing in this ${outcome.key} event starts a run (\`octoflow replay ${event.name} "$GITHUB_EVENT_PATH"\` explains why)`;
      }
    } catch (error) {
      if (error instanceof UsageError) {
        io.stderr(`${error.usage}\noctoflow action: ${error.message}\n`);
        return EXIT.usage;
      }
      if (error instanceof TargetError || error instanceof ConfigError) {
        io.stderr(`octoflow action: ${scrubSecrets(error.message)}\n`);
        return EXIT.failed;
      }
      throw error;
    }
    if (toExecute.length === 0) {
      io.stdout(`octoflow: no run: ${reason ?? "nothing to do"}\n`);
      return EXIT.ok;
    }
    let failed = 0;
    for (const run of toExecute) {
      io.stderr(`octoflow: ${run.workflow} on ${run.trigger.repo.owner}/${run.trigger.repo.name}#${run.trigger.number} · run ${run.id}\n`);
      let finished: RunRecord;
      try {
        finished = await runtime.execute(run, interrupt.signal);
      } catch (error) {
        failed++;
        io.stderr(`octoflow action: ${scrubSecrets(error instanceof Error ? error.message : String(error))}\n`);
        continue;
      }
      const links = runLinksOf(githubWebUrl(io.env, apiUrl), finished);
      io.stdout(`${finished.status}: ${finished.workflow} on ${finished.trigger.repo.owner}/${finished.trigger.repo.name}#${finished.trigger.number} (run ${finished.id})${links.length > 0 ? `\n  ${links.join("\n  ")}` : ""}\n`);
      if (finished.status !== "succeeded") {
        failed++;
        io.stderr(`octoflow action: run ${finished.status}: ${scrubSecrets((finished.error ?? "a step failed").replace(/\s+/g, " ").slice(0, 500))}\n`);
      }
    }
    return failed === 0 ? EXIT.ok : interrupt.signal.aborted ? EXIT.cancelled : EXIT.failed;
  } finally {
    interrupt.dispose();
    await runtime.close();
  }
}

/** `octoflow action`, as registered in `src/cli/main.ts`. */
export const actionCommand: CliCommand = {
  summary: "GitHub Action entry point: act on the workflow's event like the app",
  usage: ACTION_USAGE,
  run: runAction,
};

/**
 * The `AgentRunner` adapter: picks the step's model (`step.model ?? OCTOFLOW_MODEL`), runs the
 * role over a chat model (OpenAI, Anthropic, OpenAI-compatible) or hands the task to a Codegen
 * remote agent, records usage, cost and metrics, and appends the exchange to the thread's
 * conversation so follow-up commands see what came before.
 */
import type { Env } from "../config/env.ts";
import { ExternalServiceError } from "../errors/external-service-error.ts";
import { NonRetriableError } from "../errors/non-retriable-error.ts";
import type { Logger } from "../observability/logger.ts";
import type { BreakerOptions, BreakerStateName } from "../resilience/circuit-breaker.ts";
import { createHttpPool, type HttpPoolOptions } from "../resilience/http-agent-pool.ts";
import { createProviderResilience, type ProviderLimits } from "../resilience/provider-resilience.ts";
import type { RetryPolicy } from "../resilience/retry-policy.ts";
import type { RateLimiter } from "../resilience/token-bucket-limiter.ts";
import { systemClock, type AgentRequest, type AgentRunner, type Clock, type RepoReader, type RunStore } from "../workflows/ports.ts";
import type { PlannedStep, StepOutput, Trigger } from "../workflows/types.ts";
import type { RunWorkspaces, WorkspaceView } from "../workspace/workspace-view.ts";
import { parseRepoConfig, REPO_CONFIG_PATH } from "../config/repo-config.ts";
import { appendExchange, contextKeyOf, loadConversation } from "./conversation-history.ts";
import type { AgentMetrics, ModelCallContext } from "./model-call.ts";
import { parseModelRef, type ModelProvider } from "./model-provider.ts";
import { costOf, DEFAULT_PRICES, priceFor, type PriceTable } from "./price-table.ts";
import { createAiSdkProvider } from "./providers/ai-sdk-provider.ts";
import { createCodegenBackend, type CodegenBackend } from "./providers/codegen-backend.ts";
import { resolveRole } from "./roles/builtin-roles.ts";
import { createRepoReaderView } from "./repo-reader-view.ts";
import { loadRepositoryInstructions, type RepositoryInstructions } from "./repository-instructions.ts";
import { runRoleStep } from "./run-role-step.ts";
import { codegenRunKey } from "../store/marker-keys.ts";
import { DEFAULT_TOOL_LIMITS, type ToolLimits } from "./tool-loop.ts";

/** The environment variables the agents read. */
export type AgentEnv = Pick<
  Env,
  | "OCTOFLOW_MODEL"
  | "OPENAI_API_KEY"
  | "OPENAI_BASE_URL"
  | "ANTHROPIC_API_KEY"
  | "ANTHROPIC_BASE_URL"
  | "OPENAI_COMPATIBLE_BASE_URL"
  | "OPENAI_COMPATIBLE_API_KEY"
  | "CODEGEN_TOKEN"
  | "CODEGEN_ORG_ID"
  | "CODEGEN_BASE_URL"
> &
  Partial<Pick<Env, "OCTOFLOW_MODEL_IDLE_TIMEOUT_MS">>;

export interface AgentRunnerDeps {
  env: AgentEnv;
  store: Pick<RunStore, "appendMessage" | "listMessages" | "getMarker" | "setMarker">;
  /** Read access to the trigger's repository (GitHub API in the app, a fake in tests). */
  repoReaderFor: (trigger: Trigger) => RepoReader;
  metrics: AgentMetrics;
  log: Logger;
  /** Defaults to the system clock; tests inject a fake one (delays recorded, not waited). */
  clock?: Clock;
  /** Merged over `DEFAULT_PRICES` (USD per million tokens). */
  prices?: PriceTable;
  /** Requests / tokens per minute per provider, merged over the defaults. */
  limits?: Record<string, ProviderLimits>;
  /** A fleet-wide limiter per provider (PostgreSQL); defaults to in-process token buckets. */
  rateLimiterFor?: (provider: string, limits: ProviderLimits) => RateLimiter;
  retry?: Partial<RetryPolicy>;
  /** Random source in [0, 1) for backoff jitter (tests pin it). */
  random?: () => number;
  breaker?: Partial<BreakerOptions>;
  http?: HttpPoolOptions;
  /**
   * Budgets: repository context, conversation history and answer in tokens (defaults 24,000 /
   * 4,000 / 16,000); `maxStepCostUsd` refuses model calls that would take a step past it.
   */
  budgets?: { contextTokens?: number; conversationTokens?: number; maxOutputTokens?: number; maxStepCostUsd?: number };
  /** OpenAI wire API: `responses` (default) or `chat` (Chat Completions). */
  openaiApi?: "responses" | "chat";
  codegen?: { pollIntervalMs?: number; maxPollIntervalMs?: number; timeoutMs?: number };
  /** Minimum time between two progress reports of one attempt (default 250 ms). */
  progressIntervalMs?: number;
  /** Providers by name, replacing the built-in ones (tests, custom backends). */
  providers?: Record<string, ModelProvider>;
  /**
   * The run workspace (DESIGN D11): a view per step over the base snapshot and the upstream layers.
   * Without it, each step gets a lazy view over `repoReaderFor` with the upstream edits applied.
   */
  workspaces?: RunWorkspaces;
  /** Defaults of the tool loop's limits (a step's template `tools:` overrides them). */
  toolLimits?: Partial<ToolLimits>;
}

/**
 * The repository's instruction files, read from the default branch; undefined when the repo config
 * turns them off. A config that does not parse leaves instructions on (the run's own config check
 * reports it); a failed read of the instruction files is logged and the step goes on without them.
 */
async function loadInstructions(trigger: Trigger, reader: RepoReader, log: Logger): Promise<RepositoryInstructions | undefined> {
  const branch = trigger.repo.defaultBranch;
  let settings: { enabled: boolean; files: string[] } = { enabled: true, files: [] };
  try {
    const raw = await reader.readFile(REPO_CONFIG_PATH, branch);
    if (raw !== undefined) settings = parseRepoConfig(raw).instructions;
  } catch (error) {
    log.warn({ err: error instanceof Error ? error.message : String(error) }, "repository config not readable for instructions; using the defaults");
  }
  if (!settings.enabled) return undefined;
  try {
    return await loadRepositoryInstructions({ reader, defaultBranch: branch, extraFiles: settings.files });
  } catch (error) {
    log.warn({ err: error instanceof Error ? error.message : String(error) }, "repository instructions could not be read; the step runs without them");
    return undefined;
  }
}

/** The keys of `limits` that are set (a template's `tools:` may give only some). */
function definedOnly(limits: PlannedStep["toolLimits"]): Partial<ToolLimits> {
  return Object.fromEntries(Object.entries(limits ?? {}).filter(([, v]) => v !== undefined)) as Partial<ToolLimits>;
}

export type AgentRunnerService = AgentRunner & {
  /** Circuit-breaker state per provider used so far, for `/readyz`. */
  breakerStates(): Record<string, BreakerStateName>;
  /** Closes pooled connections and breaker timers. */
  close(): Promise<void>;
};

/**
 * Creates the agent runner the engine calls for every step.
 *
 * @example
 * const agents = createAgentRunner({ env, store, repoReaderFor: repoReaderFor(clients), metrics, log });
 * const output = await agents.run(request);
 * agents.breakerStates(); // { openai: "closed" }, for /readyz, alerts and /metrics
 * await agents.close();
 */
export function createAgentRunner(deps: AgentRunnerDeps): AgentRunnerService {
  const clock = deps.clock ?? systemClock;
  const prices: PriceTable = { ...DEFAULT_PRICES, ...deps.prices };
  const idleTimeoutMs = deps.http?.idleTimeoutMs ?? deps.env.OCTOFLOW_MODEL_IDLE_TIMEOUT_MS;
  const pool = createHttpPool({ ...deps.http, ...(idleTimeoutMs === undefined ? {} : { idleTimeoutMs }) });
  const resilience = createProviderResilience({
    clock,
    metrics: deps.metrics,
    ...(deps.retry ? { retry: deps.retry } : {}),
    ...(deps.random ? { random: deps.random } : {}),
    ...(deps.breaker ? { breaker: deps.breaker } : {}),
    ...(deps.limits ? { limits: deps.limits } : {}),
    ...(deps.rateLimiterFor ? { rateLimiterFor: deps.rateLimiterFor } : {}),
  });
  const providers = new Map<string, ModelProvider>(Object.entries(deps.providers ?? {}));
  let codegen: CodegenBackend | undefined;
  const budgets = {
    contextTokens: deps.budgets?.contextTokens ?? 24_000,
    conversationTokens: deps.budgets?.conversationTokens ?? 4_000,
    maxOutputTokens: deps.budgets?.maxOutputTokens ?? 16_000,
  };
  const unpriced = new Set<string>();
  const toolLimits: ToolLimits = { ...DEFAULT_TOOL_LIMITS, ...deps.toolLimits };
  // instructions are read once per run (from the default branch) and shared by its steps
  const instructionCache = new Map<string, Promise<RepositoryInstructions | undefined>>();
  const instructionsFor = (request: AgentRequest, reader: RepoReader, log: Logger) => {
    let pending = instructionCache.get(request.runId);
    if (!pending) {
      pending = loadInstructions(request.trigger, reader, log);
      instructionCache.set(request.runId, pending);
      pending.catch(() => instructionCache.delete(request.runId));
      if (instructionCache.size > 100) instructionCache.delete(instructionCache.keys().next().value as string);
    }
    return pending;
  };
  const viewFor = async (request: AgentRequest, reader: RepoReader, log: Logger): Promise<WorkspaceView> => {
    let unavailable: string | undefined;
    if (deps.workspaces) {
      try {
        return await deps.workspaces.viewFor({ runId: request.runId, trigger: request.trigger, plan: request.plan, step: request.step, upstream: request.upstream });
      } catch (error) {
        // a conflict between upstream layers fails the joining step; anything else (the repository
        // could not be resolved at all) leaves the step with lazy reads, and it says so
        if (request.signal.aborted || error instanceof NonRetriableError) throw error;
        unavailable = error instanceof Error ? error.message : String(error);
        log.warn({ err: unavailable }, "run workspace unavailable; the step reads files one by one");
      }
    }
    const order = new Map(request.plan.steps.map((s, i) => [String(s.id), i]));
    const upstream = Object.entries(request.upstream)
      .sort(([a], [b]) => (order.get(a) ?? 0) - (order.get(b) ?? 0))
      .map(([, output]) => output);
    return createRepoReaderView({ reader, ref: request.trigger.pullRequest?.headSha ?? request.trigger.repo.defaultBranch, upstream, ...(unavailable ? { unavailable } : {}) });
  };
  // the SDK would print its warnings to stderr; our logs carry what matters
  globalThis.AI_SDK_LOG_WARNINGS ??= false;

  const providerFor = (name: string): ModelProvider => {
    const existing = providers.get(name);
    if (existing) return existing;
    const { env } = deps;
    const fetch = pool.fetchFor(name);
    let provider: ModelProvider;
    if (name === "openai") {
      if (!env.OPENAI_API_KEY) throw new NonRetriableError("The model provider openai needs OPENAI_API_KEY; set it or choose another model with OCTOFLOW_MODEL");
      provider = createAiSdkProvider({ kind: "openai", apiKey: env.OPENAI_API_KEY, fetch, ...(env.OPENAI_BASE_URL ? { baseURL: env.OPENAI_BASE_URL } : {}), ...(deps.openaiApi ? { openaiApi: deps.openaiApi } : {}) });
    } else if (name === "anthropic") {
      if (!env.ANTHROPIC_API_KEY) throw new NonRetriableError("The model provider anthropic needs ANTHROPIC_API_KEY; set it or choose another model with OCTOFLOW_MODEL");
      provider = createAiSdkProvider({ kind: "anthropic", apiKey: env.ANTHROPIC_API_KEY, fetch, ...(env.ANTHROPIC_BASE_URL ? { baseURL: env.ANTHROPIC_BASE_URL } : {}) });
    } else if (name === "openai-compatible") {
      if (!env.OPENAI_COMPATIBLE_BASE_URL) throw new NonRetriableError("The model provider openai-compatible needs OPENAI_COMPATIBLE_BASE_URL (e.g. http://127.0.0.1:11434/v1)");
      provider = createAiSdkProvider({ kind: "openai-compatible", baseURL: env.OPENAI_COMPATIBLE_BASE_URL, fetch, ...(env.OPENAI_COMPATIBLE_API_KEY ? { apiKey: env.OPENAI_COMPATIBLE_API_KEY } : {}) });
    } else {
      throw new NonRetriableError(`Unknown model provider "${name}": use openai, anthropic, openai-compatible or codegen`);
    }
    providers.set(name, provider);
    return provider;
  };

  const codegenBackend = (): CodegenBackend => {
    if (codegen) return codegen;
    const { env } = deps;
    if (!env.CODEGEN_TOKEN || !env.CODEGEN_ORG_ID) throw new NonRetriableError("The codegen backend needs CODEGEN_TOKEN and CODEGEN_ORG_ID");
    codegen = createCodegenBackend({
      baseUrl: env.CODEGEN_BASE_URL ?? "https://api.codegen.com",
      token: env.CODEGEN_TOKEN,
      orgId: env.CODEGEN_ORG_ID,
      fetch: pool.fetchFor("codegen"),
      clock,
      resilience,
      ...deps.codegen,
    });
    return codegen;
  };

  const runCodegen = async (request: AgentRequest, contextKey: string, log: Logger): Promise<StepOutput> => {
    const backend = codegenBackend();
    const markerKey = codegenRunKey(contextKey);
    const previous = await deps.store.getMarker(markerKey);
    const trail: string[] = [];
    const onMessage = (message: string) => {
      trail.push(message);
      if (trail.length > 20) trail.shift();
      try {
        request.onProgress({ tokens: 0, tail: trail.join("\n").slice(-2_000), message });
      } catch {
        // progress is best effort
      }
    };
    const kind = request.trigger.isPullRequest ? "Pull request" : "Issue";
    const prompt = `Repository: ${request.trigger.repo.owner}/${request.trigger.repo.name}\n${kind} #${request.trigger.number}${request.trigger.issue?.url ? ` (${request.trigger.issue.url})` : ""}\n\n${request.prompt}`;
    const started = clock.now();
    let result;
    try {
      const resumeId = previous && /^\d+$/.test(previous) ? Number(previous) : undefined;
      try {
        result = await backend.run({ prompt, signal: request.signal, onMessage, ...(resumeId === undefined ? {} : { resumeRunId: resumeId }) });
      } catch (error) {
        const status = error instanceof NonRetriableError && error.cause instanceof ExternalServiceError ? error.cause.status : undefined;
        if (resumeId === undefined || request.signal.aborted || status === undefined || ![400, 404, 409, 422].includes(status)) throw error;
        log.info({ resumeId }, "codegen run cannot be resumed; creating a new one");
        result = await backend.run({ prompt, signal: request.signal, onMessage });
      }
      deps.metrics.agentRequests.inc({ provider: "codegen", outcome: "success" });
      deps.metrics.agentRequestDuration.observe({ provider: "codegen", outcome: "success" }, (clock.now() - started) / 1000);
    } catch (error) {
      const outcome = request.signal.aborted ? "cancelled" : "error";
      deps.metrics.agentRequests.inc({ provider: "codegen", outcome });
      deps.metrics.agentRequestDuration.observe({ provider: "codegen", outcome }, (clock.now() - started) / 1000);
      throw error;
    }
    await deps.store.setMarker(markerKey, String(result.runId));
    return {
      text: result.text,
      data: { codegenRunId: result.runId, status: result.status, ...(result.webUrl ? { webUrl: result.webUrl } : {}), pullRequests: result.pullRequests },
      usage: { inputTokens: 0, outputTokens: 0, cachedTokens: 0 },
      costUsd: 0,
      model: `codegen:${request.step.model ? parseModelRef(request.step.model).model : "agent"}`,
    };
  };

  return {
    async run(request) {
      const ref = parseModelRef(request.step.model ?? deps.env.OCTOFLOW_MODEL);
      const contextKey = contextKeyOf(request.trigger);
      const log = deps.log.child({ runId: request.runId, stepId: request.step.id, role: request.step.role, provider: ref.provider, model: ref.model });
      request.signal.throwIfAborted();
      let output: StepOutput;
      if (ref.provider === "codegen") {
        output = await runCodegen(request, contextKey, log);
      } else {
        const role = resolveRole(request.step.role, request.plan);
        const provider = providerFor(ref.provider);
        const history = await loadConversation(deps.store, contextKey, budgets.conversationTokens);
        const price = priceFor(prices, ref.provider, ref.model);
        const call: ModelCallContext = {
          provider,
          resilience,
          metrics: deps.metrics,
          log,
          clock,
          role: role.name,
          onProgress: request.onProgress,
          progressIntervalMs: deps.progressIntervalMs ?? 250,
          costOf: (usage) => costOf(usage, price),
          ...(request.onUsage ? { onUsage: request.onUsage } : {}),
        };
        const reader = deps.repoReaderFor(request.trigger);
        const [view, instructions] = await Promise.all([viewFor(request, reader, log), instructionsFor(request, reader, log)]);
        const { output: partial } = await runRoleStep({
          request,
          role,
          model: ref.model,
          reader,
          view,
          ...(instructions ? { instructions } : {}),
          limits: { ...toolLimits, ...definedOnly(request.step.toolLimits) },
          history: history.messages,
          historyDropped: history.dropped,
          budgets: {
            contextTokens: budgets.contextTokens,
            maxOutputTokens: budgets.maxOutputTokens,
            ...(deps.budgets?.maxStepCostUsd === undefined ? {} : { maxStepCostUsd: deps.budgets.maxStepCostUsd }),
          },
          costOf: (usage) => costOf(usage, price),
          call,
        });
        if (!price && !unpriced.has(`${ref.provider}:${ref.model}`)) {
          unpriced.add(`${ref.provider}:${ref.model}`);
          log.warn({ model: `${ref.provider}:${ref.model}` }, `no price configured for ${ref.provider}:${ref.model}; its cost is recorded as 0 (add it under prices: in .github/octoflow.yml)`);
        }
        // tokens and cost metrics are recorded per answered call (model-call.ts), failed steps included
        const costUsd = costOf(partial.usage, price);
        output = { ...partial, costUsd, model: `${ref.provider}:${ref.model}` };
        if (output.data && Object.keys(output.data).length === 0) delete output.data;
      }
      await appendExchange(deps.store, contextKey, { request: `[${request.step.name}] ${request.prompt}`, answer: output.text, runId: request.runId, at: clock.now() });
      log.info({ usage: output.usage, costUsd: output.costUsd }, "agent step finished");
      return output;
    },
    breakerStates: () => resilience.breakerStates(),
    async close() {
      resilience.close();
      await pool.close();
    },
  };
}

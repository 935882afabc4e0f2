/**
 * Codegen's hosted agents as a remote-agent backend (not a chat model): create an agent run, poll
 * it with backoff, read its logs as progress, resume an earlier run of the same thread, and surface
 * the result, web URL and pull-request links. Documented limits are respected: 10 run creations
 * per minute (own limiter) and 60 requests per 30 s (the provider limiter of `resilience`). Every
 * request goes through the one retry layer; a poll that receives nothing for the idle limit is cut
 * off by the pooled `fetch` and retried, and each retry is told to the user as a progress line.
 */
import { z } from "zod";
import { NonRetriableError } from "../../errors/non-retriable-error.ts";
import { idleTimeoutOf } from "../../resilience/classify-error.ts";
import type { ProviderResilience } from "../../resilience/provider-resilience.ts";
import type { RetryInfo } from "../../resilience/retry-policy.ts";
import { httpResponseError } from "../../errors/http-response-error.ts";
import { createTokenBucketLimiter, type RateLimiter } from "../../resilience/token-bucket-limiter.ts";
import type { Clock } from "../../workflows/ports.ts";

export interface CodegenOptions {
  /** e.g. `https://api.codegen.com` (CODEGEN_BASE_URL). */
  baseUrl: string;
  token: string;
  orgId: string;
  fetch: typeof globalThis.fetch;
  clock: Clock;
  resilience: ProviderResilience;
  /** First poll delay (default 2 s), growing ×1.5 up to `maxPollIntervalMs` (default 30 s). */
  pollIntervalMs?: number;
  maxPollIntervalMs?: number;
  /** Overall time a run may take (default 30 min). */
  timeoutMs?: number;
  /** Limiter for run creations; default 10 per minute, one at a time. */
  createLimiter?: RateLimiter;
}

export interface CodegenRunRequest {
  prompt: string;
  /** An earlier run of the same thread to continue (`/agent/run/resume`) instead of creating one. */
  resumeRunId?: number;
  signal: AbortSignal;
  onMessage: (message: string) => void;
}

export interface CodegenRunResult {
  runId: number;
  status: string;
  text: string;
  webUrl?: string;
  pullRequests: { url: string; title: string; number?: number }[];
}

const runSchema = z.object({
  id: z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]),
  status: z.string().nullish(),
  result: z.string().nullish(),
  summary: z.string().nullish(),
  web_url: z.string().nullish(),
  github_pull_requests: z
    .array(z.object({ url: z.string().nullish(), title: z.string().nullish(), id: z.number().nullish() }).passthrough())
    .nullish(),
});

const logsSchema = z.object({
  logs: z
    .array(z.object({ thought: z.string().nullish(), tool_name: z.string().nullish(), message_type: z.string().nullish() }).passthrough())
    .nullish(),
  total_logs: z.number().nullish(),
});

const SUCCEEDED = new Set(["complete", "completed", "succeeded", "success", "done", "finished"]);
const FAILED = new Set(["failed", "failure", "error", "errored", "cancelled", "canceled", "stopped", "timeout", "timed_out", "max_iterations_reached"]);

export interface CodegenBackend {
  run(request: CodegenRunRequest): Promise<CodegenRunResult>;
}

/**
 * Creates the backend.
 *
 * @example
 * const codegen = createCodegenBackend({ baseUrl, token, orgId, fetch: pool.fetchFor("codegen"), clock, resilience });
 * const result = await codegen.run({ prompt, signal, onMessage: (m) => progress.message(m) });
 */
export function createCodegenBackend(options: CodegenOptions): CodegenBackend {
  const base = options.baseUrl.replace(/\/+$/, "");
  const org = encodeURIComponent(options.orgId);
  const { clock } = options;
  const createLimiter = options.createLimiter ?? createTokenBucketLimiter({ requestsPerMinute: 10, burstRequests: 1, clock });
  const timeoutMs = options.timeoutMs ?? 30 * 60_000;
  const maxPoll = options.maxPollIntervalMs ?? 30_000;

  /** The call's context: its cancellation, and where a decided retry is told. */
  type Caller = { signal: AbortSignal; onMessage: (message: string) => void };
  const request = async <T>(method: "GET" | "POST", path: string, schema: z.ZodType<T>, caller: Caller, body?: unknown, idempotent = true): Promise<T> =>
    options.resilience.run(
      "codegen",
      async () => {
        const response = await options.fetch(`${base}${path}`, {
          method,
          signal: caller.signal,
          headers: {
            authorization: `Bearer ${options.token}`,
            accept: "application/json",
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        if (!response.ok) throw await httpResponseError(response);
        let json: unknown;
        try {
          json = await response.json();
        } catch (error) {
          // a body cut off mid-way is a transient failure (classified and retried), not a malformed answer
          if (idleTimeoutOf(error) || caller.signal.aborted) throw error;
          throw new NonRetriableError(`codegen answered ${method} ${path.replace(/\d+/g, "{id}")} with a body that is not JSON`, { cause: error });
        }
        const parsed = schema.safeParse(json);
        if (!parsed.success) {
          throw new NonRetriableError(`codegen answered ${method} ${path.replace(/\d+/g, "{id}")} with an unexpected shape: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(body)"} ${i.message}`).join("; ").slice(0, 300)}`);
        }
        return parsed.data;
      },
      { cost: { requests: 1, tokens: 0 }, signal: caller.signal, idempotent, onRetry: (info) => caller.onMessage(retryLine(info)) },
    );

  return {
    async run(req) {
      const { signal } = req;
      let run: z.infer<typeof runSchema>;
      if (req.resumeRunId !== undefined) {
        run = await request("POST", `/v1/organizations/${org}/agent/run/resume`, runSchema, req, { agent_run_id: req.resumeRunId, prompt: req.prompt });
        req.onMessage(`Codegen run ${run.id} resumed`);
      } else {
        await createLimiter.acquire({ requests: 1, tokens: 0 }, signal);
        // not repeated after a 5xx or a cut connection: the run may exist already, and each one is paid for
        run = await request("POST", `/v1/organizations/${org}/agent/run`, runSchema, req, { prompt: req.prompt }, false);
        req.onMessage(`Codegen run ${run.id} created${run.web_url ? `: ${run.web_url}` : ""}`);
      }
      const id = run.id;
      const deadline = clock.now() + timeoutMs;
      let delay = options.pollIntervalMs ?? 2_000;
      let logsSeen = 0;
      let logsBroken = false;
      for (;;) {
        const status = (run.status ?? "").trim().toLowerCase();
        if (SUCCEEDED.has(status)) return toResult(run, status);
        if (FAILED.has(status)) {
          throw new NonRetriableError(`Codegen run ${id} ended with status "${status}"${run.web_url ? ` (${run.web_url})` : ""}${run.result ? `: ${run.result.slice(0, 500)}` : ""}`);
        }
        if (clock.now() >= deadline) {
          throw new NonRetriableError(`Codegen run ${id} did not finish within ${Math.round(timeoutMs / 60_000)} min (last status "${status || "unknown"}")${run.web_url ? `; follow it at ${run.web_url}` : ""}`);
        }
        await clock.sleep(Math.min(delay, Math.max(0, deadline - clock.now())), signal);
        delay = Math.min(maxPoll, Math.round(delay * 1.5));
        if (!logsBroken) {
          try {
            // optional progress: a failing logs page is not worth a retry line
            const page = await request("GET", `/v1/alpha/organizations/${org}/agent/run/${id}/logs?skip=${logsSeen}&limit=100`, logsSchema, { signal, onMessage: () => undefined });
            for (const entry of page.logs ?? []) {
              logsSeen += 1;
              const line = [entry.tool_name, entry.thought].filter((s): s is string => typeof s === "string" && s !== "").join(": ");
              if (line) req.onMessage(line.slice(0, 300));
            }
          } catch (error) {
            if (signal.aborted) throw error;
            // the logs endpoint is alpha: progress is optional, the run status is what counts
            logsBroken = true;
          }
        }
        run = await request("GET", `/v1/organizations/${org}/agent/run/${id}`, runSchema, req);
      }
    },
  };
}

function retryLine({ attempt, maxAttempts, error }: RetryInfo): string {
  const what = idleTimeoutOf(error) ? "Codegen stopped responding" : `Codegen request failed (${error.message.slice(0, 160)})`;
  return `${what}; retrying (${attempt + 1}/${maxAttempts})`;
}

function toResult(run: z.infer<typeof runSchema>, status: string): CodegenRunResult {
  const pullRequests = (run.github_pull_requests ?? [])
    .filter((pr) => typeof pr.url === "string" && pr.url !== "")
    .map((pr) => {
      const number = /\/pull\/(\d+)/.exec(pr.url ?? "")?.[1];
      return { url: pr.url ?? "", title: pr.title ?? "pull request", ...(number ? { number: Number(number) } : {}) };
    });
  const lines = [run.result ?? run.summary ?? "Codegen finished without a written result."];
  if (pullRequests.length > 0) lines.push("", "Pull requests:", ...pullRequests.map((pr) => `- [${pr.title}](${pr.url})`));
  if (run.web_url) lines.push("", `Agent run: ${run.web_url}`);
  return { runId: run.id, status, text: lines.join("\n"), ...(run.web_url ? { webUrl: run.web_url } : {}), pullRequests };
}

/**
 * Process start-up: parse the environment, build the logger and the runtime, start Probot.
 * Without APP_ID / PRIVATE_KEY, Probot's own setup flow registers the app from app.yml.
 */
import { existsSync } from "node:fs";
import { ProbotOctokit, run } from "probot";
import { loadEnv } from "./config/env.ts";
import { ConfigError } from "./errors/config-error.ts";
import { createLogger } from "./observability/logger.ts";
import { setupTracing } from "./observability/tracing.ts";
import { octokitInstrumentation } from "./observability/instrument-octokit.ts";
import { createRuntime, octoflowApp } from "./app.ts";
import { describeWebhookAddress } from "./github/webhook-address.ts";
import { resilientOctokit } from "./github/client.ts";

/** How long a signal's shutdown may take before the process exits anyway (Kubernetes' default grace is 30 s). */
const SHUTDOWN_GRACE_MS = 25_000;

async function main(): Promise<void> {
  // The setup flow writes credentials to .env; read it before validating (existing variables win).
  if (existsSync(".env")) process.loadEnvFile(".env");
  let env;
  try {
    env = loadEnv(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`octoflow: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const log = createLogger({
    level: env.LOG_LEVEL,
    format: env.LOG_FORMAT ?? (env.NODE_ENV === "production" ? "json" : "pretty"),
  });
  // Probot reads these itself; normalise what we validated so both agree.
  process.env.HOST = env.HOST;
  process.env.PORT = String(env.PORT);
  if (env.privateKey) process.env.PRIVATE_KEY = env.privateKey;
  delete process.env.PRIVATE_KEY_PATH;

  if (env.setupMode) {
    log.info(`No GitHub App credentials yet: open http://localhost:${env.PORT} to register Octoflow from app.yml`);
    await run(() => {}, { log });
    // Probot's setup opens a smee.io channel when it can (WEBHOOK_PROXY_URL); without one, the app
    // it registers would have this page's address as its webhook URL, which is not the webhook path.
    if (!process.env.WEBHOOK_PROXY_URL) {
      log.warn(
        "no webhook proxy (WEBHOOK_PROXY_URL): on a machine GitHub cannot reach, set it to a channel from https://smee.io/new and restart before registering; on a server, set the app's webhook URL to https://<your host>/api/github/webhooks after registering",
      );
    }
    return;
  }
  const tracing = setupTracing({ env, serviceName: "octoflow", log });
  const runtime = await createRuntime(env, log);
  runtime.closers.unshift(() => tracing.shutdown()); // closers run in reverse: tracing flushes last
  const probotSigint = new Set(process.listeners("SIGINT"));
  const server = await run(octoflowApp(runtime), {
    log,
    // one retry layer for every GitHub call: rate limits and 5xx retried, silent requests cut off
    Octokit: withThrottle(resilientOctokit(ProbotOctokit.plugin(octokitInstrumentation({ metrics: runtime.metrics })), { idleTimeoutMs: env.OCTOFLOW_GITHUB_IDLE_TIMEOUT_MS }), env.OCTOFLOW_GITHUB_THROTTLE),
  });
  // Probot's `run` adds a SIGINT listener that stops the server and exits at once, racing the
  // hand-over below (the queue and the store would never close): ours is the only one.
  for (const listener of process.listeners("SIGINT")) if (!probotSigint.has(listener)) process.off("SIGINT", listener);
  log.info(describeWebhookAddress(env));
  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) {
      // a second signal (Ctrl-C twice) does not wait: unfinished runs stay resumable
      log.warn({ signal }, "second signal during shutdown; exiting now");
      process.exit(1);
    }
    shuttingDown = true;
    log.info({ signal }, "shutting down");
    // Bounded: past the grace period the process exits anyway (unfinished runs stay resumable).
    // Not unref'd: it also keeps the process alive if a closer waits on a promise nothing settles.
    setTimeout(() => {
      log.error({ signal }, "shutdown timed out; exiting");
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    let code = 0;
    try {
      await server.stop();
    } catch (error) {
      code = 1;
      log.error({ err: error }, "stopping the HTTP server failed");
    }
    // Every closer runs even when an earlier one fails: stop the workers, then close the store.
    for (const close of [...runtime.closers].reverse()) {
      try {
        await close();
      } catch (error) {
        code = 1;
        log.error({ err: error }, "closing a component failed");
      }
    }
    log.info({ signal }, "shut down");
    process.exit(code);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

/** Probot layers its own throttle options over the class defaults: a defaults function runs last. */
function withThrottle(Octokit: typeof ProbotOctokit, throttle: "on" | "off"): typeof ProbotOctokit {
  if (throttle === "on") return Octokit;
  return Octokit.defaults((o: Record<string, unknown>) => ({ ...o, throttle: { ...(o.throttle as object), enabled: false } }));
}

main().catch((error: unknown) => {
  process.stderr.write(`octoflow: start-up failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

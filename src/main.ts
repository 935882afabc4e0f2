/**
 * Process start-up: parse the environment, build the logger and the runtime, start Probot.
 * Without APP_ID / PRIVATE_KEY, Probot's own setup flow registers the app from app.yml.
 */
import { existsSync } from "node:fs";
import { ProbotOctokit, run } from "probot";
import { loadEnv } from "./config/env.ts";
import { ConfigError } from "./config/config-error.ts";
import { createLogger } from "./observability/logger.ts";
import { setupTracing } from "./observability/tracing.ts";
import { octokitInstrumentation } from "./observability/instrument-octokit.ts";
import { createRuntime, octoflowApp } from "./app.ts";

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
    return;
  }
  const tracing = setupTracing({ env, serviceName: "octoflow", log });
  const runtime = await createRuntime(env, log);
  runtime.closers.unshift(() => tracing.shutdown()); // closers run in reverse: tracing flushes last
  const server = await run(octoflowApp(runtime), {
    log,
    Octokit: ProbotOctokit.plugin(octokitInstrumentation({ metrics: runtime.metrics })),
  });
  const shutdown = async (signal: string) => {
    log.info({ signal }, "shutting down");
    try {
      await server.stop();
      for (const close of [...runtime.closers].reverse()) await close();
    } finally {
      process.exit(0);
    }
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  process.stderr.write(`octoflow: start-up failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

/**
 * Environment configuration, parsed once at start-up. zod is the single source of truth;
 * `.env.example` and docs/configuration.md document the same variables.
 */
import { readFileSync } from "node:fs";
import { createPrivateKey } from "node:crypto";
import { totalmem } from "node:os";
import { z } from "zod";
import { ConfigError } from "../errors/config-error.ts";

/** Memory one concurrent run holds in the process, measured by `bench/engine-concurrent-runs.ts` (with headroom). */
const RUN_MEMORY_KB = 128;
/** The most concurrent runs this machine's memory holds (never below 1,000). */
export const MAX_CONCURRENCY = Math.max(1000, Math.floor(totalmem() / 1024 / RUN_MEMORY_KB));

const optionalString = z
  .string()
  .trim()
  .transform((s) => (s === "" ? undefined : s))
  .optional();

const port = z
  .string()
  .trim()
  .regex(/^\d+$/, "must be a whole number between 1 and 65535")
  .transform(Number)
  .refine((n) => n >= 1 && n <= 65535, "must be a whole number between 1 and 65535");

const url = (what: string) =>
  z
    .string()
    .trim()
    .transform((s) => (s === "" ? undefined : s))
    .optional()
    .refine((s) => s === undefined || URL.canParse(s), `must be a URL (${what})`);

const milliseconds = (fallback: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, "must be a whole number of milliseconds")
    .transform(Number)
    .refine((n) => n >= 1 && n <= 3_600_000, "must be between 1 and 3600000 (one hour)")
    .default(fallback);

const MODEL_PROVIDERS = ["openai", "anthropic", "openai-compatible", "codegen"] as const;

export const envSchema = z
  .object({
    NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
    APP_ID: optionalString.refine((s) => s === undefined || /^\d+$/.test(s), "must be the numeric GitHub App id"),
    PRIVATE_KEY: optionalString,
    PRIVATE_KEY_PATH: optionalString,
    WEBHOOK_SECRET: optionalString,
    WEBHOOK_PROXY_URL: url("a webhook proxy channel such as https://smee.io/abc123"),
    GHE_HOST: optionalString.refine(
      (s) => s === undefined || /^[a-z0-9.-]+(:\d+)?$/i.test(s),
      "must be a host name such as github.example.com (no scheme)",
    ),
    GHE_PROTOCOL: z.enum(["https", "http"]).default("https"),
    HOST: z.string().trim().min(1).default("0.0.0.0"),
    PORT: port.default(3000),
    LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
    LOG_FORMAT: z.enum(["json", "pretty"]).optional(),
    DATABASE_URL: optionalString.refine(
      (s) => s === undefined || /^(postgres|postgresql|sqlite|file):/.test(s),
      "must start with postgres://, postgresql://, sqlite: or file: (leave unset for ./data/octoflow.db)",
    ),
    OCTOFLOW_MODEL: z
      .string()
      .trim()
      .default("openai:gpt-4.1-mini")
      .refine((s) => {
        const [provider, ...rest] = s.split(":");
        return MODEL_PROVIDERS.includes(provider as (typeof MODEL_PROVIDERS)[number]) && rest.join(":").length > 0;
      }, `must be <provider>:<model> with provider one of ${MODEL_PROVIDERS.join(", ")}`),
    OPENAI_API_KEY: optionalString,
    OPENAI_BASE_URL: url("OpenAI API base"),
    ANTHROPIC_API_KEY: optionalString,
    ANTHROPIC_BASE_URL: url("Anthropic API base"),
    OPENAI_COMPATIBLE_BASE_URL: url("OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1"),
    OPENAI_COMPATIBLE_API_KEY: optionalString,
    CODEGEN_TOKEN: optionalString,
    CODEGEN_ORG_ID: optionalString.refine((s) => s === undefined || /^\d+$/.test(s), "must be the numeric Codegen organisation id"),
    CODEGEN_BASE_URL: url("Codegen API base").default("https://api.codegen.com"),
    DASHBOARD_TOKEN: optionalString,
    ALERT_WEBHOOK_URL: url("Slack-compatible incoming webhook"),
    OTEL_EXPORTER_OTLP_ENDPOINT: url("OTLP/HTTP collector"),
    /** Runs executed at once by this process (the queue's worker slots). */
    OCTOFLOW_CONCURRENCY: z
      .string()
      .trim()
      .regex(/^\d+$/, "must be a whole number")
      .transform(Number)
      .refine((n) => n >= 1 && n <= MAX_CONCURRENCY, `must be between 1 and ${MAX_CONCURRENCY} (about ${RUN_MEMORY_KB} KB of memory per concurrent run on this machine)`)
      .default(4),
    /** `off` turns Probot's write pacing off: only against a local fake GitHub (tests, the fault suite). */
    OCTOFLOW_GITHUB_THROTTLE: z.enum(["on", "off"]).default("on"),
    /** The embedded queue's job lease (SQLite): how soon a run whose process died is resumed by a restarted one. */
    OCTOFLOW_QUEUE_LEASE_MS: z
      .string()
      .trim()
      .regex(/^\d+$/, "must be a whole number of milliseconds")
      .transform(Number)
      .refine((n) => n >= 1000 && n <= 600_000, "must be between 1000 and 600000 (milliseconds)")
      .default(30_000),
    /** Steps of one run executing at once (`limits.stepConcurrency` in .github/octoflow.yml wins). */
    OCTOFLOW_STEP_CONCURRENCY: z
      .string()
      .trim()
      .regex(/^\d+$/, "must be a whole number")
      .transform(Number)
      .refine((n) => n >= 1 && n <= 32, "must be between 1 and 32")
      .default(4),
    /** A model or Codegen call that receives nothing for this long is cut off and retried. */
    OCTOFLOW_MODEL_IDLE_TIMEOUT_MS: milliseconds(90_000),
    /** A GitHub API call that receives nothing for this long is cut off and retried. */
    OCTOFLOW_GITHUB_IDLE_TIMEOUT_MS: milliseconds(60_000),
    /** How often a run waiting for CI looks at the checks again when no webhook woke it. */
    OCTOFLOW_CI_POLL_MS: milliseconds(120_000),
  })
  .superRefine((env, ctx) => {
    if (env.PRIVATE_KEY && env.PRIVATE_KEY_PATH) {
      ctx.addIssue({ code: "custom", path: ["PRIVATE_KEY_PATH"], message: "set either PRIVATE_KEY or PRIVATE_KEY_PATH, not both" });
    }
    if (env.NODE_ENV === "production" && env.APP_ID && !env.WEBHOOK_SECRET) {
      ctx.addIssue({ code: "custom", path: ["WEBHOOK_SECRET"], message: "is required in production so webhooks can be verified" });
    }
  });

export type Env = z.infer<typeof envSchema> & {
  /** The PEM private key, read from PRIVATE_KEY or PRIVATE_KEY_PATH and checked. */
  privateKey?: string;
  /** True when the app has no credentials yet and Probot's setup flow should run. */
  setupMode: boolean;
};

/** Names of variables whose values are secret: never echoed in errors or logs. */
export const SECRET_ENV_KEYS = new Set([
  "PRIVATE_KEY",
  "WEBHOOK_SECRET",
  "OPENAI_API_KEY",
  "ANTHROPIC_API_KEY",
  "OPENAI_COMPATIBLE_API_KEY",
  "CODEGEN_TOKEN",
  "DASHBOARD_TOKEN",
  "ALERT_WEBHOOK_URL",
  "DATABASE_URL",
]);

function checkPrivateKey(pem: string): boolean {
  try {
    createPrivateKey(pem.includes("\\n") ? pem.replace(/\\n/g, "\n") : pem);
    return true;
  } catch {
    return false;
  }
}

/**
 * Parses and checks the environment. Throws one `ConfigError` listing every problem,
 * one line each, without echoing any secret value.
 *
 * @example
 * const env = loadEnv(process.env);
 */
export function loadEnv(source: NodeJS.ProcessEnv | Record<string, string | undefined>): Env {
  const result = envSchema.safeParse(source);
  const problems: string[] = [];
  if (!result.success) {
    for (const issue of result.error.issues) {
      const key = issue.path.join(".") || "(environment)";
      problems.push(`${key}: ${issue.message}`);
    }
    throw new ConfigError(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`, { problems });
  }
  const env = result.data;
  let privateKey: string | undefined;
  if (env.PRIVATE_KEY_PATH) {
    try {
      privateKey = readFileSync(env.PRIVATE_KEY_PATH, "utf8");
    } catch (error) {
      problems.push(`PRIVATE_KEY_PATH: cannot read the file (${(error as NodeJS.ErrnoException).code ?? "error"})`);
    }
  } else if (env.PRIVATE_KEY) {
    privateKey = env.PRIVATE_KEY.replace(/\\n/g, "\n");
  }
  if (privateKey !== undefined && !checkPrivateKey(privateKey)) {
    problems.push(
      `${env.PRIVATE_KEY_PATH ? "PRIVATE_KEY_PATH" : "PRIVATE_KEY"}: is not a valid PEM private key (expected "-----BEGIN RSA PRIVATE KEY-----…")`,
    );
  }
  if (env.APP_ID && !privateKey && problems.length === 0) {
    problems.push("PRIVATE_KEY: APP_ID is set, so PRIVATE_KEY or PRIVATE_KEY_PATH is required too");
  }
  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`, { problems });
  }
  const setupMode = !env.APP_ID || !privateKey;
  return { ...env, ...(privateKey ? { privateKey } : {}), setupMode };
}

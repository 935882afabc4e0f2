import { generateKeyPairSync } from "node:crypto";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadEnv, MAX_CONCURRENCY } from "../../src/config/env.ts";
import { ConfigError } from "../../src/errors/config-error.ts";

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const PEM = privateKey.export({ type: "pkcs1", format: "pem" }).toString();

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

describe("loadEnv", () => {
  it("applies defaults and enters setup mode without credentials", () => {
    const env = loadEnv({});
    expect(env.PORT).toBe(3000);
    expect(env.HOST).toBe("0.0.0.0");
    expect(env.OCTOFLOW_MODEL).toBe("openai:gpt-4.1-mini");
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.setupMode).toBe(true);
  });

  it("OCTOFLOW_CONCURRENCY goes up to what the machine's memory holds (10,000 concurrent runs are measured by the bench)", () => {
    expect(MAX_CONCURRENCY).toBeGreaterThanOrEqual(1000);
    expect(MAX_CONCURRENCY).toBe(Math.max(1000, Math.floor(totalmem() / 1024 / 128)));
    expect(loadEnv({ OCTOFLOW_CONCURRENCY: String(MAX_CONCURRENCY) }).OCTOFLOW_CONCURRENCY).toBe(MAX_CONCURRENCY);
    expect(problemsOf({ OCTOFLOW_CONCURRENCY: String(MAX_CONCURRENCY + 1) }).join("\n")).toMatch(new RegExp(`OCTOFLOW_CONCURRENCY.*between 1 and ${MAX_CONCURRENCY}`));
    expect(problemsOf({ OCTOFLOW_CONCURRENCY: "0" }).join("\n")).toMatch(/OCTOFLOW_CONCURRENCY/);
  });

  it("accepts a full, valid configuration", () => {
    const env = loadEnv({
      APP_ID: "12345",
      PRIVATE_KEY: PEM.replace(/\n/g, "\\n"),
      WEBHOOK_SECRET: "s3cret",
      PORT: "8080",
      GHE_HOST: "github.example.com",
      DATABASE_URL: "postgres://u:p@127.0.0.1:5432/octoflow",
      OCTOFLOW_MODEL: "anthropic:claude-sonnet-4-5",
      OPENAI_COMPATIBLE_BASE_URL: "http://127.0.0.1:11434/v1",
    });
    expect(env.setupMode).toBe(false);
    expect(env.PORT).toBe(8080);
    expect(env.privateKey).toContain("-----BEGIN RSA PRIVATE KEY-----\n");
  });

  it("reads the key from PRIVATE_KEY_PATH", () => {
    const dir = mkdtempSync(join(tmpdir(), "octoflow-env-"));
    const path = join(dir, "key.pem");
    writeFileSync(path, PEM);
    expect(loadEnv({ APP_ID: "1", PRIVATE_KEY_PATH: path, WEBHOOK_SECRET: "x" }).privateKey).toBe(PEM);
    expect(problemsOf({ APP_ID: "1", PRIVATE_KEY_PATH: join(dir, "missing.pem") })).toEqual([
      "PRIVATE_KEY_PATH: cannot read the file (ENOENT)",
    ]);
  });

  it("reports one line per problem", () => {
    const problems = problemsOf({ PORT: "abc", OCTOFLOW_MODEL: "gpt-4", GHE_PROTOCOL: "ftp", OPENAI_BASE_URL: "not a url" });
    expect(problems).toHaveLength(4);
    expect(problems.find((p) => p.startsWith("PORT:"))).toMatch(/whole number/);
    expect(problems.find((p) => p.startsWith("OCTOFLOW_MODEL:"))).toMatch(/<provider>:<model>/);
    expect(problems.some((p) => p.startsWith("GHE_PROTOCOL:"))).toBe(true);
    expect(problems.some((p) => p.startsWith("OPENAI_BASE_URL:"))).toBe(true);
  });

  it("reads the two concurrency knobs: runs per process and steps per run", () => {
    const defaults = loadEnv({});
    expect(defaults.OCTOFLOW_CONCURRENCY).toBe(4);
    expect(defaults.OCTOFLOW_STEP_CONCURRENCY).toBe(4);
    const set = loadEnv({ OCTOFLOW_CONCURRENCY: "12", OCTOFLOW_STEP_CONCURRENCY: " 2 " });
    expect(set.OCTOFLOW_CONCURRENCY).toBe(12);
    expect(set.OCTOFLOW_STEP_CONCURRENCY).toBe(2);
    for (const bad of ["0", "33", "2.5", "many"]) {
      expect(problemsOf({ OCTOFLOW_STEP_CONCURRENCY: bad })).toEqual([expect.stringMatching(/^OCTOFLOW_STEP_CONCURRENCY: /)]);
    }
  });

  it("rejects a malformed private key without echoing it", () => {
    const secret = "-----BEGIN RSA PRIVATE KEY-----\nTOPSECRETmaterial0123456789\n-----END RSA PRIVATE KEY-----";
    const problems = problemsOf({ APP_ID: "1", PRIVATE_KEY: secret });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^PRIVATE_KEY: is not a valid PEM private key/);
    expect(problems.join("\n")).not.toContain("TOPSECRET");
  });

  it("requires a key when APP_ID is set, and a webhook secret in production", () => {
    expect(problemsOf({ APP_ID: "7" })).toEqual(["PRIVATE_KEY: APP_ID is set, so PRIVATE_KEY or PRIVATE_KEY_PATH is required too"]);
    expect(problemsOf({ NODE_ENV: "production", APP_ID: "7", PRIVATE_KEY: PEM })).toEqual([
      "WEBHOOK_SECRET: is required in production so webhooks can be verified",
    ]);
  });
});

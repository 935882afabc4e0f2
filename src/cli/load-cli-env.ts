/**
 * The environment of a CLI command: the process environment over `./.env` (existing variables win,
 * as in the app), with empty values dropped (a GitHub Action passes every unset input as ""), parsed
 * by the app's own zod schema.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { loadEnv, type Env } from "../config/env.ts";
import type { CliIo } from "./cli-io.ts";

/** Variables from `<cwd>/.env` under those of the process, without empty values. */
export function cliEnvSource(io: Pick<CliIo, "env" | "cwd">): Record<string, string> {
  const file = join(io.cwd, ".env");
  const fromFile = existsSync(file) ? parseEnv(readFileSync(file, "utf8")) : {};
  const merged: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...fromFile, ...io.env })) {
    if (typeof value === "string" && value.trim() !== "") merged[key] = value;
  }
  return merged;
}

/**
 * Parses the CLI's environment; `overrides` (e.g. `--model`) win. Throws the app's `ConfigError`.
 *
 * @example
 * const env = loadCliEnv(io, { OCTOFLOW_MODEL: args.model });
 */
export function loadCliEnv(io: Pick<CliIo, "env" | "cwd">, overrides: Record<string, string | undefined> = {}): Env {
  const source = cliEnvSource(io);
  for (const [key, value] of Object.entries(overrides)) if (value !== undefined) source[key] = value;
  // The CLI is never the Probot server: ignore app credentials that may sit in a shared .env.
  delete source.APP_ID;
  delete source.PRIVATE_KEY;
  delete source.PRIVATE_KEY_PATH;
  return loadEnv(source);
}

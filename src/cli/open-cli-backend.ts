/**
 * The CLI's backend: the same database as the app (`DATABASE_URL`, default ./data/octoflow.db),
 * with relative SQLite paths resolved against the command's working directory, and no queue
 * worker (the CLI executes its runs itself).
 */
import { existsSync } from "node:fs";
import { openBackend, parseDatabaseUrl, type Backend } from "../compose/open-backend.ts";
import type { CliIo } from "./cli-io.ts";

/** Where the history lives, for messages: a file path, or `DATABASE_URL` for a server database. */
export function describeStoreLocation(io: Pick<CliIo, "env" | "cwd">): string {
  const location = parseDatabaseUrl(io.env.DATABASE_URL, io.cwd);
  return location.kind === "sqlite" ? location.path : "DATABASE_URL";
}

/**
 * Opens the backend for a CLI command (store and fleet-wide provider limits; no queue). With
 * `mustExist`, resolves to undefined instead of creating an empty SQLite file (so `octoflow runs`
 * in a fresh directory writes nothing). Throws the `ConfigError` of an unusable `DATABASE_URL`.
 *
 * @example
 * const backend = await openCliBackend(io);
 * try { ... backend.store ... } finally { await backend?.close(); }
 */
export async function openCliBackend(io: Pick<CliIo, "env" | "cwd">, options: { mustExist?: boolean; runsPerProcess?: number } = {}): Promise<Backend | undefined> {
  const location = parseDatabaseUrl(io.env.DATABASE_URL, io.cwd);
  if (options.mustExist && location.kind === "sqlite" && location.path !== ":memory:" && !existsSync(location.path)) return undefined;
  return openBackend(location, { runsPerProcess: options.runsPerProcess ?? 1, queue: false });
}

/**
 * The CLI's run history: the same store as the app (`DATABASE_URL`, default ./data/octoflow.db),
 * with a relative SQLite path resolved against the command's working directory.
 */
import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { openStore, sqlitePathFromUrl } from "../store/open-store.ts";
import { createSqliteRunStore } from "../store/sqlite-run-store.ts";
import type { RunStore } from "../workflows/ports.ts";
import type { CliIo } from "./cli-io.ts";

/** Where the history lives, for messages: a file path, or `DATABASE_URL` for a server database. */
export function describeStoreLocation(io: Pick<CliIo, "env" | "cwd">): string {
  const path = cliSqlitePath(io);
  return path ?? "DATABASE_URL";
}

function cliSqlitePath(io: Pick<CliIo, "env" | "cwd">): string | undefined {
  const url = io.env.DATABASE_URL?.trim() || undefined;
  const path = sqlitePathFromUrl(url);
  if (path === undefined || path === ":memory:") return path;
  // sqlitePathFromUrl resolves explicit URLs against process.cwd(); the default stays relative.
  return url === undefined && !isAbsolute(path) ? resolve(io.cwd, path) : path;
}

/**
 * Opens the store for a CLI command. With `mustExist`, resolves to undefined instead of creating
 * an empty SQLite file (so `octoflow runs` in a fresh directory writes nothing).
 *
 * @example
 * const store = await openCliStore(io);
 * try { ... } finally { await store?.close(); }
 */
export async function openCliStore(io: Pick<CliIo, "env" | "cwd">, options: { mustExist?: boolean } = {}): Promise<RunStore | undefined> {
  const path = cliSqlitePath(io);
  if (path === undefined) return openStore({ DATABASE_URL: io.env.DATABASE_URL });
  if (options.mustExist && path !== ":memory:" && !existsSync(path)) return undefined;
  return createSqliteRunStore({ path });
}

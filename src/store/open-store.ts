/**
 * Picks the RunStore adapter from the environment (D2): SQLite when `DATABASE_URL` is unset
 * (`./data/octoflow.db`) or a `sqlite:` / `file:` URL. The PostgreSQL branch is added by the
 * scale-out adapter.
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../errors/config-error.ts";
import type { RunStore } from "../workflows/ports.ts";
import { createSqliteRunStore } from "./sqlite-run-store.ts";
import { createPostgresRunStore } from "./postgres-run-store.ts";

/** Default SQLite file, relative to the working directory. */
export const DEFAULT_SQLITE_PATH = "./data/octoflow.db";

/**
 * Resolves a `DATABASE_URL` to a SQLite file path, or undefined when it is not a SQLite URL.
 *
 * @example
 * sqlitePathFromUrl(undefined);                 // "./data/octoflow.db"
 * sqlitePathFromUrl("sqlite:./var/octo.db");    // "/abs/cwd/var/octo.db"
 * sqlitePathFromUrl("file:///srv/octoflow.db"); // "/srv/octoflow.db"
 */
export function sqlitePathFromUrl(url: string | undefined): string | undefined {
  if (url === undefined || url === "") return DEFAULT_SQLITE_PATH;
  if (url === "sqlite::memory:" || url === "sqlite://:memory:") return ":memory:";
  if (url.startsWith("file://")) return fileURLToPath(url);
  if (url.startsWith("sqlite://")) return resolve(url.slice("sqlite://".length));
  if (url.startsWith("sqlite:")) return resolve(url.slice("sqlite:".length));
  if (url.startsWith("file:")) return resolve(url.slice("file:".length));
  return undefined;
}

/**
 * Opens the store selected by `env.DATABASE_URL`.
 *
 * @example
 * const store = await openStore(env);
 * runtime.closers.push(() => store.close());
 */
export async function openStore(env: { DATABASE_URL?: string | undefined }): Promise<RunStore> {
  const path = sqlitePathFromUrl(env.DATABASE_URL);
  if (path !== undefined) return createSqliteRunStore({ path });
  if (env.DATABASE_URL !== undefined && /^postgres(ql)?:\/\//.test(env.DATABASE_URL)) {
    return createPostgresRunStore({ connectionString: env.DATABASE_URL });
  }
  throw new ConfigError("DATABASE_URL: this build has no adapter for the URL's scheme (use sqlite:, file: or leave it unset)");
}

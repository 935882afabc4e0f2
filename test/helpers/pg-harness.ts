/**
 * Test helpers for PostgreSQL: every test file works in schemas of its own (created and dropped by
 * the test), so files run in parallel against the one CI cluster named by OCTOFLOW_TEST_DATABASE_URL.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { quoteIdent } from "../../src/store/postgres-migrations.ts";

/** The CI / dev cluster, or undefined (tests then `describe.skip` with this reason). */
export const TEST_DATABASE_URL = process.env.OCTOFLOW_TEST_DATABASE_URL;
export const SKIP_REASON = "OCTOFLOW_TEST_DATABASE_URL is not set (.ci/run starts a PostgreSQL cluster and sets it)";

/** A fresh, unique schema name such as `t_store_1a2b3c4d`. */
export function uniqueSchema(prefix: string): string {
  return `t_${prefix}_${randomBytes(5).toString("hex")}`;
}

/** Drops the given schemas (CASCADE) with a short-lived connection. */
export async function dropSchemas(url: string, ...schemas: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
  } finally {
    await client.end();
  }
}

import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { backendOver, openBackend, parseDatabaseUrl } from "../../src/compose/open-backend.ts";
import { ConfigError } from "../../src/errors/config-error.ts";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import { sampleRun, sampleSteps } from "../store/run-store.contract.ts";
import { SKIP_REASON, TEST_DATABASE_URL } from "../helpers/pg-harness.ts";

describe("parseDatabaseUrl", () => {
  it("reads every scheme the adapters handle, resolving relative SQLite paths against the working directory", () => {
    expect(parseDatabaseUrl(undefined, "/srv/app")).toEqual({ kind: "sqlite", path: "/srv/app/data/octoflow.db" });
    expect(parseDatabaseUrl("  ", "/srv/app")).toEqual({ kind: "sqlite", path: "/srv/app/data/octoflow.db" });
    expect(parseDatabaseUrl("sqlite:./var/octo.db", "/srv/app")).toEqual({ kind: "sqlite", path: "/srv/app/var/octo.db" });
    expect(parseDatabaseUrl("sqlite:/srv/x.db", "/elsewhere")).toEqual({ kind: "sqlite", path: "/srv/x.db" });
    expect(parseDatabaseUrl("sqlite://data/x.db", "/srv/app")).toEqual({ kind: "sqlite", path: "/srv/app/data/x.db" });
    expect(parseDatabaseUrl("file:///srv/octo.db")).toEqual({ kind: "sqlite", path: "/srv/octo.db" });
    expect(parseDatabaseUrl("file:octo.db", "/srv/app")).toEqual({ kind: "sqlite", path: "/srv/app/octo.db" });
    expect(parseDatabaseUrl("sqlite::memory:")).toEqual({ kind: "sqlite", path: ":memory:" });
    expect(parseDatabaseUrl("postgres://u:p@db:5432/octoflow")).toEqual({ kind: "postgres", connectionString: "postgres://u:p@db:5432/octoflow" });
    expect(parseDatabaseUrl("postgresql://db/octoflow")).toEqual({ kind: "postgres", connectionString: "postgresql://db/octoflow" });
  });

  it("refuses a scheme no adapter handles with a ConfigError that names the variable and not the URL", () => {
    let caught: unknown;
    try {
      parseDatabaseUrl("mysql://root:hunter2@db/octoflow");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as Error).message).toMatch(/^DATABASE_URL: /);
    expect((caught as Error).message).not.toContain("hunter2");
  });
});

describe("openBackend over SQLite and memory", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "octoflow-backend-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("SQLite: the file store, the embedded queue over its job table, in-process rate limits", async () => {
    const path = join(dir, "nested", "octoflow.db");
    const backend = await openBackend(parseDatabaseUrl(`sqlite:${path}`), { runsPerProcess: 2 });
    try {
      expect(existsSync(path)).toBe(true);
      expect(backend.location).toEqual({ kind: "sqlite", path });
      expect(backend.rateLimiterFor).toBeUndefined();
      const run = sampleRun();
      await backend.store.createRun(run, sampleSteps(run.id), { enqueue: true });
      expect(await backend.queue?.stats()).toMatchObject({ depth: 1 });
      expect("boss" in (backend.queue ?? {})).toBe(false);
    } finally {
      await backend.close();
    }
    await expect(backend.store.ping()).rejects.toThrow();
    await backend.close(); // idempotent
  });

  it("without a queue (the CLI) nothing claims jobs, and the store still works", async () => {
    const backend = await openBackend({ kind: "memory" }, { runsPerProcess: 1, queue: false });
    expect(backend.queue).toBeUndefined();
    const run = sampleRun();
    await backend.store.createRun(run, sampleSteps(run.id));
    expect((await backend.store.getRun(run.id))?.status).toBe(run.status);
    await backend.close();
  });

  it("backendOver wraps an injected store with the embedded queue and closes it", async () => {
    const store = createMemoryRunStore();
    const backend = backendOver(store, { runsPerProcess: 3 });
    expect(backend.store).toBe(store);
    expect(backend.queue).toBeDefined();
    await backend.queue?.start(async () => undefined);
    expect(backend.queue?.running()).toBe(true);
    await backend.close();
    expect(backend.queue?.running()).toBe(false);
  });
});

const url = TEST_DATABASE_URL;
const suite = url === undefined ? describe.skip : describe;

suite(`DATABASE_URL=postgres:// selects the PostgreSQL store, pg-boss and the fleet-wide limiter${url === undefined ? ` (${SKIP_REASON})` : ""}`, () => {
  // the backend uses the default schemas, so this file works in a database of its own
  const database = `t_open_${randomBytes(5).toString("hex")}`;
  let databaseUrl = "";
  const admin = () => new pg.Client({ connectionString: url });
  beforeAll(async () => {
    if (url === undefined) return;
    const client = admin();
    await client.connect();
    await client.query(`CREATE DATABASE ${database}`);
    await client.end();
    const parsed = new URL(url);
    parsed.pathname = `/${database}`;
    databaseUrl = parsed.toString();
  });
  afterAll(async () => {
    if (url === undefined) return;
    const client = admin();
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await client.end();
  });

  it("gives the PostgreSQL store and a pg-boss queue that enqueue in one transaction, and a limiter shared by the fleet", async () => {
    const backend = await openBackend(parseDatabaseUrl(databaseUrl), { runsPerProcess: 2 });
    try {
      expect(backend.location.kind).toBe("postgres");
      expect("boss" in (backend.queue ?? {})).toBe(true);
      const run = sampleRun();
      await backend.store.createRun(run, sampleSteps(run.id), { enqueue: true });
      expect(await backend.queue?.stats()).toMatchObject({ depth: 1 });
      // the embedded job table stays empty: the job went to pg-boss
      expect(await backend.store.queueStats(Number.MAX_SAFE_INTEGER)).toEqual({ depth: 0, oldestAgeMs: 0 });
      await backend.rateLimiterFor?.("openai", { requestsPerMinute: 60 }).acquire({ requests: 1, tokens: 0 });
      const check = new pg.Client({ connectionString: databaseUrl });
      await check.connect();
      const tables = await check.query<{ schema: string }>(
        `SELECT DISTINCT table_schema AS schema FROM information_schema.tables WHERE table_schema LIKE 'octoflow%' ORDER BY 1`,
      );
      // the limiter drew from the shared bucket row: one request of a one-second burst is gone
      const bucket = await check.query<{ level: number }>(`SELECT level FROM octoflow.rate_buckets WHERE key = 'openai:requests'`);
      await check.end();
      expect(tables.rows.map((r) => r.schema)).toEqual(["octoflow", "octoflow_boss"]);
      expect(Number(bucket.rows[0]?.level)).toBeLessThan(1);
    } finally {
      await backend.close();
    }
  });

  it("without a queue (the CLI on PostgreSQL) it still gives the fleet-wide limiter", async () => {
    const backend = await openBackend(parseDatabaseUrl(databaseUrl), { runsPerProcess: 1, queue: false });
    try {
      expect(backend.queue).toBeUndefined();
      expect(backend.rateLimiterFor).toBeDefined();
    } finally {
      await backend.close();
    }
  });
});

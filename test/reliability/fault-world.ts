/**
 * The world of the fault suite (issue 14): a fake GitHub (OpenAPI-validated) holding `octo/app` with
 * one buggy file and `issues` open issues, a fault-injecting HTTP proxy in front of it, the fake model
 * server answering each bug-fix step, and the REAL app process (`node src/main.ts`) on an SQLite file,
 * talking to the proxy as a GitHub Enterprise Server. Shared by `test/reliability/` and
 * `bench/fault-suite.ts`; outcomes are read from the fake's state and the app's database file.
 */
import { createServer, request as httpRequest, type Server } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { sign } from "@octokit/webhooks-methods";
import { installRepoModel, type RepoModel } from "../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { startModelServer, type ModelServer, type Reply } from "../fakes/model-server.ts";
import { example, testPrivateKey, WEBHOOK_SECRET } from "../github/app-harness.ts";
import { spawnApp, type SpawnedApp } from "../helpers/spawn-app.ts";

type Json = Record<string, unknown>;

export const BUGGY = "export function add(a: number, b: number): number {\n  return a - b;\n}\n";
const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

export interface WriteFaults {
  /** Share of GitHub writes (POST/PATCH/PUT/DELETE under /repos/) answered with a fault, 0–1. */
  rate: number;
  /** Deterministic pseudo-random sequence (the same seed injects the same faults). */
  seed: number;
}

export interface FaultWorldOptions {
  issues: number;
  faults?: WriteFaults;
  /** Delay between streamed model chunks: makes each step last long enough to be killed in. */
  chunkDelayMs?: number;
  /** Extra files on the default branch (e.g. a hostile `.github/octoflow.yml`). */
  files?: Record<string, string>;
  /** Extra env for the app process. */
  env?: Record<string, string>;
}

export interface RunRow {
  id: string;
  status: string;
  issue: number | undefined;
}

export interface Outcome {
  runs: RunRow[];
  finished: number;
  succeeded: number;
  /** Issues whose run succeeded with exactly one PR. */
  prsOnce: number;
  /** Issues with more than one PR (should be 0). */
  prDuplicates: number;
  /** Runs with exactly one check run, completed. */
  checksCompleted: number;
  /** Runs with more than one check run (should be 0). */
  checkDuplicates: number;
  /** Sticky comments beyond one per run (should be 0). */
  commentDuplicates: number;
}

/** mulberry32: a small seeded PRNG, so a failing fault pattern can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const json = (value: unknown, delay: number): Reply => ({ kind: "text", text: JSON.stringify(value), usage: { input: 900, output: 200 }, chunkSize: 24, chunkDelayMs: delay });

/** Answers each step of the bug-fix template from what its request asks for. */
function bugFixAnswer(chunkDelayMs: number): Reply {
  return {
    kind: "respond",
    answer(request) {
      const text = JSON.stringify(request.body);
      if (text.includes("Review the fix and its regression test")) {
        return json({ summary: "The fix is correct.", findings: [{ path: "src/math.ts", line: 2, startLine: null, side: "RIGHT", severity: "info", body: "Consider a property test.", suggestion: null }] }, chunkDelayMs);
      }
      if (text.includes("Add a test that fails without the fix")) {
        return json({ summary: "Regression test for add()", edits: [{ kind: "create", path: "test/math.test.ts", content: "import { add } from '../src/math';\ntest('add', () => expect(add(2, 2)).toBe(4));\n", blocks: null }] }, chunkDelayMs);
      }
      if (text.includes("Fix the bug with the smallest safe change")) {
        return json({ summary: "Use + in add()", edits: [{ kind: "modify", path: "src/math.ts", content: null, blocks: [{ search: "return a - b;", replace: "return a + b;" }] }] }, chunkDelayMs);
      }
      return { kind: "text", text: "The root cause: add() uses `-` instead of `+` in src/math.ts line 2. ".repeat(3), usage: { input: 900, output: 60 }, chunkSize: 24, chunkDelayMs };
    },
  };
}

export interface FaultProxy {
  url: string;
  /** Faults injected so far, by kind. */
  injected: { status5xx: number; secondaryLimit: number };
  setRate(rate: number): void;
  close(): Promise<void>;
}

/**
 * A proxy in front of the fake GitHub that answers a share of repository writes with a 502 or a
 * secondary rate limit (403 + `retry-after: 1`, GitHub's documented shape) WITHOUT forwarding them,
 * as GitHub does when it refuses a request; everything else is forwarded unchanged.
 */
export async function startFaultProxy(target: string, faults: WriteFaults): Promise<FaultProxy> {
  const random = seededRandom(faults.seed);
  let rate = faults.rate;
  const injected = { status5xx: 0, secondaryLimit: 0 };
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const write = req.method !== "GET" && req.method !== "HEAD";
    const path = (req.url ?? "/").replace(/^\/api\/v3(?=\/)/, "");
    if (write && path.startsWith("/repos/") && random() < rate) {
      req.resume();
      if (random() < 0.5) {
        injected.status5xx++;
        res.writeHead(502, { "content-type": "application/json" }).end(JSON.stringify({ message: "Server Error" }));
      } else {
        injected.secondaryLimit++;
        res
          .writeHead(403, { "content-type": "application/json", "retry-after": "1", "x-ratelimit-remaining": "4000" })
          .end(JSON.stringify({ message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits" }));
      }
      return;
    }
    const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on("error", () => res.writeHead(502).end());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    injected,
    setRate: (r) => (rate = r),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface FaultWorld {
  gh: GitHubFake;
  repo: RepoModel;
  models: ModelServer;
  proxy: FaultProxy;
  dbPath: string;
  /** The running app process (replaced by `restart`). */
  app(): SpawnedApp;
  /** kill -9 of the app process. */
  kill(): Promise<void>;
  /** Starts the app again on the same database file. */
  restart(): Promise<void>;
  /** Sends a signed `issues.labeled` (octoflow:bug-fix) for issue `n`; returns the HTTP status. */
  label(n: number): Promise<number>;
  /** Sends any signed delivery with any body; returns the HTTP status. */
  deliver(event: string, body: string, id?: string): Promise<number>;
  runs(): RunRow[];
  outcome(): Outcome;
  /** Polls until `done(runs)` or the bound (a hang becomes an error naming the runs' states). */
  waitFor(done: (runs: RunRow[]) => boolean, boundMs: number): Promise<RunRow[]>;
  close(): Promise<void>;
}

let deliveries = 0;

export async function startFaultWorld(options: FaultWorldOptions): Promise<FaultWorld> {
  const gh = await startGitHubFake();
  const issues = Object.fromEntries(Array.from({ length: options.issues }, (_, i) => [i + 1, { title: `add() subtracts ${i + 1}`, body: "add(2, 2) returns 0" }]));
  const repo = installRepoModel(gh, { owner: "octo", repo: "app", files: { "src/math.ts": BUGGY, "README.md": "# app\n", ...options.files }, permissions: { alice: "write" }, issues });
  const models = await startModelServer();
  models.always("openai.responses", bugFixAnswer(options.chunkDelayMs ?? 0));
  const proxy = await startFaultProxy(gh.url, options.faults ?? { rate: 0, seed: 1 });
  const dir = mkdtempSync(join(tmpdir(), "octoflow-faults-"));
  const dbPath = join(dir, "octoflow.db");
  const env: Record<string, string> = {
    NODE_ENV: "test",
    APP_ID: "123",
    PRIVATE_KEY: testPrivateKey(),
    WEBHOOK_SECRET,
    LOG_LEVEL: "warn",
    GHE_HOST: new URL(proxy.url).host,
    GHE_PROTOCOL: "http",
    DATABASE_URL: `sqlite:${dbPath}`,
    OCTOFLOW_MODEL: "openai:gpt-4.1-mini",
    OPENAI_API_KEY: "sk-test-faults-000000000000",
    OPENAI_BASE_URL: models.baseURL,
    OCTOFLOW_QUEUE_LEASE_MS: "2000",
    OCTOFLOW_GITHUB_THROTTLE: "off",
    HOME: dir,
    ...options.env,
  };
  let current = await spawnApp(env, { cwd: dir });

  const deliver = async (event: string, body: string, id = `fault-${process.pid}-${++deliveries}`) => {
    const headers = { "content-type": "application/json", "x-github-event": event, "x-github-delivery": id, "x-hub-signature-256": await sign(WEBHOOK_SECRET, body) };
    for (let attempt = 1; ; attempt++) {
      try {
        // a fresh connection each time: a pooled keep-alive socket may lead to the process just killed
        const response = await fetch(`${current.baseUrl}/api/github/webhooks`, { method: "POST", headers: { ...headers, connection: "close" }, body, signal: AbortSignal.timeout(30_000) });
        await response.arrayBuffer();
        return response.status;
      } catch (error) {
        // GitHub redelivers a delivery whose connection failed; the same id is deduplicated by the app
        const code = (error as { cause?: { code?: string } }).cause?.code;
        if (attempt >= 3 || (code !== "UND_ERR_SOCKET" && code !== "ECONNRESET" && code !== "ECONNREFUSED")) throw error;
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  };

  const runs = (): RunRow[] => {
    const db = new DatabaseSync(dbPath, { readOnly: true });
    try {
      const rows = db.prepare("SELECT id, status, data FROM runs ORDER BY seq").all() as { id: string; status: string; data: string }[];
      return rows.map((r) => {
        const data = JSON.parse(r.data) as { trigger?: { number?: number } };
        return { id: r.id, status: r.status, issue: data.trigger?.number };
      });
    } catch (error) {
      if (String(error).includes("no such table")) return [];
      throw error;
    } finally {
      db.close();
    }
  };

  const outcome = (): Outcome => {
    const all = runs();
    const checks = [...repo.state.checkRuns.values()];
    const comments = [...repo.state.comments.values()];
    let prsOnce = 0;
    let prDuplicates = 0;
    let checksCompleted = 0;
    let checkDuplicates = 0;
    let commentDuplicates = 0;
    for (const run of all) {
      const prs = repo.state.pulls.filter((p) => p.head.ref.startsWith(`octoflow/${run.issue}-`));
      if (run.status === "succeeded" && prs.length === 1) prsOnce++;
      if (prs.length > 1) prDuplicates++;
      const mine = checks.filter((c) => c.external_id === run.id);
      if (mine.length === 1 && mine[0]?.status === "completed") checksCompleted++;
      if (mine.length > 1) checkDuplicates++;
      commentDuplicates += Math.max(0, comments.filter((c) => c.body.includes(run.id)).length - 1);
    }
    return {
      runs: all,
      finished: all.filter((r) => TERMINAL.has(r.status)).length,
      succeeded: all.filter((r) => r.status === "succeeded").length,
      prsOnce,
      prDuplicates,
      checksCompleted,
      checkDuplicates,
      commentDuplicates,
    };
  };

  return {
    gh,
    repo,
    models,
    proxy,
    dbPath,
    app: () => current,
    kill: () => current.stop(),
    async restart() {
      await current.stop();
      current = await spawnApp(env, { cwd: dir });
    },
    async label(n) {
      const payload = await example("issues", "labeled", (p) => {
        (p.label as Json).name = "octoflow:bug-fix";
        Object.assign(p.issue as Json, { number: n, title: `add() subtracts ${n}`, body: "add(2, 2) returns 0", state: "open" });
        p.sender = { login: "alice", id: 1, type: "User" };
      });
      return deliver("issues", JSON.stringify(payload));
    },
    deliver,
    runs,
    outcome,
    async waitFor(done, boundMs) {
      const deadline = Date.now() + boundMs;
      for (;;) {
        const now = runs();
        if (done(now)) return now;
        if (Date.now() > deadline) throw new Error(`runs did not settle within ${boundMs} ms: ${JSON.stringify(now.map((r) => [r.issue, r.status]))}\n${current.output().slice(-4000)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    async close() {
      await current.stop();
      await proxy.close();
      await models.close();
      await gh.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const allFinished = (expected: number) => (runs: RunRow[]) => runs.length >= expected && runs.every((r) => TERMINAL.has(r.status));

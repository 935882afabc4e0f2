import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { listRuns } from "../../src/cli/commands/runs.ts";
import { createSqliteRunStore } from "../../src/store/sqlite-run-store.ts";
import { asRunId, asStepId, type RunRecord, type RunStatus, type StepRecord } from "../../src/workflows/types.ts";
import { recordingIo } from "./helpers/recording-io.ts";

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "octoflow-runs-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function record(id: string, status: RunStatus, createdAt: number, workflow = "bug-fix"): RunRecord {
  return {
    id: asRunId(id),
    workflow,
    status,
    plan: { workflow, description: "", steps: [], inputs: {}, concurrency: { group: "g", cancelInProgress: false }, customRoles: {} },
    trigger: { kind: "cli", repo: { owner: "acme", name: "api", defaultBranch: "main" }, number: 12, isPullRequest: false, actor: "me", inputs: {} },
    concurrencyKey: `acme/api#12:${workflow}`,
    createdAt,
    startedAt: createdAt,
    ...(status === "running" ? {} : { finishedAt: createdAt + 65_000 }),
  };
}

function step(runId: string, id: string, tokens: [number, number], costUsd: number): StepRecord {
  return {
    runId: asRunId(runId),
    stepId: asStepId(id),
    status: "succeeded",
    attempts: 1,
    output: { text: "ok", usage: { inputTokens: tokens[0], outputTokens: tokens[1], cachedTokens: 0 }, costUsd },
  };
}

async function seed(dir: string) {
  const store = createSqliteRunStore({ path: join(dir, "data", "octoflow.db") });
  const t0 = Date.UTC(2026, 0, 2, 3, 4, 5);
  await store.createRun(record("run-older-aaaaaa", "succeeded", t0), [step("run-older-aaaaaa", "a", [1000, 500], 0.25), step("run-older-aaaaaa", "b", [100, 50], 0.05)]);
  await store.createRun(record("run-newer-bbbbbb", "failed", t0 + 1000, "code-review"), [step("run-newer-bbbbbb", "a", [10, 5], 0.001)]);
  await store.close();
}

describe("octoflow runs", () => {
  it("lists recent runs, newest first, with status, duration, tokens and cost", async () => {
    const dir = tempDir();
    await seed(dir);
    const io = recordingIo({}, dir);
    expect(await listRuns([], io)).toBe(0);
    const lines = io.out().trimEnd().split("\n");
    expect(lines[0]).toMatch(/^RUN\s+WORKFLOW\s+TARGET\s+STATUS\s+STARTED\s+DURATION\s+TOKENS\s+COST$/);
    expect(lines[1]).toMatch(/^run-newer-bb\s+code-review\s+acme\/api#12\s+failed\s+2026-01-02 03:04:06\s+1m05s\s+15\s+\$0\.0010$/);
    expect(lines[2]).toMatch(/^run-older-aa\s+bug-fix\s+acme\/api#12\s+succeeded\s+2026-01-02 03:04:05\s+1m05s\s+1,650\s+\$0\.30$/);
    expect(lines).toHaveLength(3);
    expect(io.err()).toBe("");
  });

  it("filters and prints JSON", async () => {
    const dir = tempDir();
    await seed(dir);
    const io = recordingIo({}, dir);
    expect(await listRuns(["--status", "succeeded", "--json", "--limit", "5"], io)).toBe(0);
    const views = JSON.parse(io.out()) as { id: string; tokens: { total: number }; costUsd: number; links: { issue: string } }[];
    expect(views.map((v) => [v.id, v.tokens.total, v.costUsd])).toEqual([["run-older-aaaaaa", 1650, 0.3]]);
    expect(views[0]?.links.issue).toBe("https://github.com/acme/api/issues/12");
  });

  it("reads DATABASE_URL", async () => {
    const dir = tempDir();
    await seed(dir);
    const io = recordingIo({ DATABASE_URL: `file://${join(dir, "data", "octoflow.db")}` }, tempDir());
    expect(await listRuns(["--workflow", "code-review"], io)).toBe(0);
    expect(io.out()).toContain("run-newer-bb");
    expect(io.out()).not.toContain("run-older-aa");
  });

  it("says so when there is no history, without creating a database", async () => {
    const dir = tempDir();
    const io = recordingIo({}, dir);
    expect(await listRuns([], io)).toBe(0);
    expect(io.out()).toBe(`No runs recorded yet (${join(dir, "data", "octoflow.db")}).\n`);
    expect(existsSync(join(dir, "data"))).toBe(false);
  });

  it.each([[["--limit", "x"]], [["--status", "done"]], [["--repo", "acme"]], [["extra"]], [["--nope"]]])("refuses %j with the usage line and exit 2", async (args) => {
    const dir = tempDir();
    const io = recordingIo({}, dir);
    expect(await listRuns(args, io)).toBe(2);
    expect(io.err()).toMatch(/^usage: octoflow runs /);
    expect(io.out()).toBe("");
    expect(existsSync(join(dir, "data"))).toBe(false);
  });
});

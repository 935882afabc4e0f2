/**
 * `octoflow replay` over every @octokit/webhooks-examples payload of the events the app subscribes
 * to (in-process, no token), and against the fake GitHub with a token (child process): a decision
 * every time, exit 0, and never a write sent to GitHub.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { replayWebhook, type ReplayReport } from "../../src/cli/commands/replay.ts";
import { RECEIVED_EVENTS } from "../../src/github/register-handlers.ts";
import { installRepoModel } from "../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { recordingIo } from "./helpers/recording-io.ts";
import { ROOT, spawnCli } from "./helpers/spawn-cli.ts";

interface ExampleGroup {
  name: string;
  examples: Record<string, unknown>[];
}

const examples = (createRequire(import.meta.url)("@octokit/webhooks-examples") as ExampleGroup[]).filter((g) => RECEIVED_EVENTS.includes(g.name));
const cases = examples.flatMap((g) => g.examples.map((payload, i) => ({ event: g.name, index: i, action: String(payload.action ?? ""), payload })));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "octoflow-replay-"));
  mkdirSync(join(dir, "payloads"));
  for (const c of cases) writeFileSync(join(dir, "payloads", `${c.event}-${c.index}.json`), JSON.stringify(c.payload));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("octoflow replay on every webhooks-examples payload (no token)", () => {
  it("subscribes to the events of app.yml (plus installation, always delivered to apps)", () => {
    const manifest = parse(readFileSync(join(ROOT, "app.yml"), "utf8")) as { default_events: string[] };
    expect([...RECEIVED_EVENTS].sort()).toEqual([...manifest.default_events, "installation"].sort());
  });

  it("covers every subscribed event", () => {
    expect(new Set(cases.map((c) => c.event))).toEqual(new Set(RECEIVED_EVENTS));
    expect(cases.length).toBeGreaterThan(50);
  });

  it.each(cases.map((c) => [`${c.event}.${c.action} #${c.index}`, c] as const))("%s: prints a decision and exits 0", async (_name, c) => {
    const io = recordingIo({}, dir);
    const code = await replayWebhook([c.event, `payloads/${c.event}-${c.index}.json`], io);
    expect(io.err()).toBe("");
    expect(code).toBe(0);
    // `status` deliveries have no action
    expect(io.out()).toMatch(new RegExp(`^event     ${c.event}${c.action === "" ? " " : "\\."}`));
    expect(io.out()).toMatch(/^decision {2}(would |ignored: |undecided: )/m);

    const json = recordingIo({}, dir);
    expect(await replayWebhook([c.event, `payloads/${c.event}-${c.index}.json`, "--json"], json)).toBe(0);
    const report = JSON.parse(json.out()) as ReplayReport;
    expect(report.decision.kind).not.toBe("error");
    expect(report.reads).toEqual([]);
    if (report.decision.kind === "start") expect(report.runs.length).toBeGreaterThan(0);
  });

  it("reports decisions the app would take", async () => {
    const run = async (event: string, payload: Record<string, unknown>) => {
      const file = join(dir, `custom-${event}.json`);
      writeFileSync(file, JSON.stringify(payload));
      const io = recordingIo({}, dir);
      expect(await replayWebhook([event, file, "--json"], io)).toBe(0);
      return JSON.parse(io.out()) as ReplayReport;
    };
    const labeled = cases.find((c) => c.event === "issues" && c.action === "labeled")?.payload ?? {};
    const started = await run("issues", { ...labeled, label: { name: "octoflow:bug-fix" } });
    expect(started.decision).toEqual({ kind: "start", text: "would start bug-fix on Codertocat/Hello-World#1" });
    expect(started.gate).toBe("not checked (no token)");
    expect(started.runs[0]?.steps.map((s) => s.id)).toEqual(["diagnose", "fix", "regression-test", "review", "verify-1", "verify-fix-1", "verify-2", "verify-fix-2", "verify-3", "verify-fix-3", "verify-4"]);
    expect(started.writes).toEqual([]);

    const other = await run("issues", { ...labeled, label: { name: "bug" } });
    expect(other.decision.kind).toBe("ignored");
    expect(other.decision.text).toContain('label "bug" does not start a workflow');

    const installation = cases.find((c) => c.event === "installation")?.payload ?? {};
    expect((await run("installation", installation)).decision.text).toMatch(/^ignored: Octoflow does not act on installation\./);
    expect((await run("push", { ref: "refs/heads/main" })).decision.text).toBe("ignored: Octoflow does not subscribe to push events");
  });

  it.each([[["issues"]], [["issues", "missing.json"]], [["Issues!", "x.json"]], [["issues", "bad.json"]], [["issues", "a.json", "b.json"]]])("refuses %j with the usage line and exit 2", async (args) => {
    writeFileSync(join(dir, "bad.json"), "{ not json");
    const io = recordingIo({}, dir);
    expect(await replayWebhook(args, io)).toBe(2);
    expect(io.err()).toMatch(/^usage: octoflow replay <event> <payload.json>/);
    expect(io.out()).toBe("");
  });
});

describe("octoflow replay with a token (child process against the fake GitHub)", () => {
  let gh: GitHubFake;
  beforeAll(async () => {
    gh = await startGitHubFake();
    installRepoModel(gh, {
      owner: "Codertocat",
      repo: "Hello-World",
      defaultBranch: "master",
      files: { ".github/octoflow.yml": "labels:\n  needs-docs: documentation\n" },
      permissions: { Codertocat: "write", visitor: "read" },
    });
  });
  afterAll(async () => {
    await gh.close();
  });

  it("reads the repository's config and the sender's permission, and sends GETs only", async () => {
    const labeled = cases.find((c) => c.event === "issues" && c.action === "labeled")?.payload ?? {};
    writeFileSync(join(dir, "needs-docs.json"), JSON.stringify({ ...labeled, label: { name: "needs-docs" } }));
    const result = await spawnCli(["replay", "issues", "needs-docs.json"], { env: { GITHUB_TOKEN: "ghp_replaytoken00000000000000000000000000", GITHUB_API_URL: gh.url }, cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("config    .github/octoflow.yml and workflows from master");
    expect(result.stdout).toContain("gate      allowed: Codertocat has write access");
    expect(result.stdout).toContain("workflow  documentation (label trigger by Codertocat)");
    expect(result.stdout).toContain("decision  would start documentation on Codertocat/Hello-World#1");
    expect(gh.requests.length).toBeGreaterThan(0);
    expect(gh.requests.filter((r) => r.method !== "GET")).toEqual([]);
    gh.verify();
  }, 60_000);

  it("a refused commenter: reports the polite answer the app would post, without posting it", async () => {
    const comment = cases.find((c) => c.event === "issue_comment" && c.action === "created")?.payload ?? {};
    const payload = JSON.parse(JSON.stringify(comment)) as { comment: { body: string; user: { login: string } }; sender: { login: string } };
    payload.comment.body = "/octoflow run bug-fix";
    payload.comment.user.login = "visitor";
    payload.sender.login = "visitor";
    writeFileSync(join(dir, "visitor.json"), JSON.stringify(payload));
    const before = gh.requests.length;
    const result = await spawnCli(["replay", "issue_comment", "visitor.json"], { env: { GITHUB_TOKEN: "ghp_replaytoken00000000000000000000000000", GITHUB_API_URL: gh.url }, cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("gate      refused: visitor has read access, write is required");
    expect(result.stdout).toMatch(/^would {5}POST \/repos\/Codertocat\/Hello-World\/issues\/1\/comments "Thanks @visitor!/m);
    expect(result.stdout).toContain("decision  would not start a run: refused: visitor has read access, write is required");
    expect(gh.requests.slice(before).filter((r) => r.method !== "GET")).toEqual([]);
    expect(readFileSync(join(dir, "visitor.json"), "utf8")).toContain("visitor");
    gh.verify();
  }, 60_000);
});

/**
 * `octoflow run` end to end: the real CLI in a child process against the OpenAPI-validating fake
 * GitHub and a local model server speaking the OpenAI Responses wire format.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { installRepoModel, type RepoModel } from "../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { startModelServer, type ModelServer } from "../fakes/model-server.ts";
import { spawnCli, startCli } from "./helpers/spawn-cli.ts";
import { installTargetRoutes } from "./helpers/target-routes.ts";

const TOKEN = "ghp_clitesttoken000000000000000000000000";
const OPENAI_KEY = "sk-test-cli-0000000000000000000000";

let gh: GitHubFake;
let models: ModelServer;
let repo: RepoModel;
let cwd: string;

beforeEach(async () => {
  gh = await startGitHubFake();
  models = await startModelServer();
  repo = installRepoModel(gh, {
    owner: "acme",
    repo: "api",
    files: { "README.md": "# api\n", "src/server.ts": "export function listen(port: number) {\n  return port;\n}\n" },
  });
  installTargetRoutes(gh, repo, [
    { number: 12, title: "Document the server", body: "Explain how `listen` works." },
    { number: 7, title: "Validate the port", body: "Reject ports above 65535.", pull: true },
  ]);
  cwd = mkdtempSync(join(tmpdir(), "octoflow-cli-e2e-"));
});

afterEach(async () => {
  await gh.close();
  await models.close();
  rmSync(cwd, { recursive: true, force: true });
});

const env = () => ({
  GITHUB_TOKEN: TOKEN,
  GITHUB_API_URL: gh.url,
  OCTOFLOW_GITHUB_THROTTLE: "off",
  OPENAI_API_KEY: OPENAI_KEY,
  OPENAI_BASE_URL: models.baseURL,
  OCTOFLOW_MODEL: "openai:gpt-4.1-mini",
  GITHUB_SERVER_URL: "https://github.com",
});

const docsEdits = {
  summary: "Documented listen() in docs/server.md.",
  edits: [{ kind: "create", path: "docs/server.md", content: "# Server\n\n`listen(port)` returns the port.\n", blocks: null }],
};

describe("octoflow run (child process)", () => {
  it("runs a workflow on an issue: branch, commit, draft PR, check run and sticky comment, then lists it", async () => {
    models.expect("openai.responses", { kind: "text", text: JSON.stringify(docsEdits), usage: { input: 1200, output: 300 } });
    models.expect("openai.responses", { kind: "text", text: JSON.stringify({ summary: "Accurate and clear.", findings: [] }), usage: { input: 800, output: 40 } });

    const result = await spawnCli(["run", "documentation", "--repo", "acme/api", "--issue", "12", "--input", "audience=operators", "--progress", "table"], { env: env(), cwd });
    expect(result.stderr).not.toContain(TOKEN);
    expect(result.stdout).not.toContain(TOKEN);
    expect(result.code, result.stderr).toBe(0);

    // The pull request: a branch from main, one commit with the docs, a draft PR closing the issue.
    expect(repo.state.pulls).toHaveLength(1);
    const pull = repo.state.pulls[0];
    expect(pull?.draft).toBe(true);
    expect(pull?.head.ref).toMatch(/^octoflow\/12-/);
    expect(pull?.body).toContain("Closes #12");
    expect(repo.filesAt(pull?.head.ref ?? "").get("docs/server.md")).toBe("# Server\n\n`listen(port)` returns the port.\n");
    expect(repo.filesAt("main").has("docs/server.md")).toBe(false);
    expect(gh.find("POST", "/repos/acme/api/git/commits")).toHaveLength(1);

    // Progress: one check run completed with success, one sticky comment edited in place.
    expect(repo.state.checkRuns.size).toBe(1);
    const check = [...repo.state.checkRuns.values()][0];
    expect(check).toMatchObject({ name: "Octoflow: documentation", status: "completed", conclusion: "success" });
    const comments = [...repo.state.comments.values()].filter((c) => c.issueNumber === 12);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toContain("<!-- octoflow:run:");
    expect(comments[0]?.body).toContain(`/pull/${pull?.number}`);

    // The model saw the issue, fenced as data, and the input.
    const prompts = models.requestsTo("openai.responses").map((r) => JSON.stringify(r.body));
    expect(prompts).toHaveLength(2);
    expect(prompts[0]).toContain("Document the server");
    expect(prompts[0]).toContain("operators");
    expect(prompts[0]).toContain("untrusted-data");

    // Every request carried the token and passed GitHub's OpenAPI description.
    expect(gh.requests.every((r) => r.headers.authorization === `token ${TOKEN}`)).toBe(true);
    gh.verify();
    models.assertDone();

    expect(result.stdout).toMatch(/^succeeded: documentation on acme\/api#12 \(run [0-9a-f-]{36}\)$/m);
    // the step table, redrawn in place (cursor up over the two step rows), ends with both steps done
    expect(result.stderr).toContain("\x1b[2A");
    const finalTable = result.stderr.slice(result.stderr.lastIndexOf("\x1b[2A"));
    expect(finalTable).toMatch(/✓ write\s+succeeded\s+\S+\s+1,500 tok/);
    expect(finalTable).toMatch(/✓ review\s+succeeded\s+\S+\s+840 tok/);
    expect(result.stdout).toContain(`pull request https://github.com/acme/api/pull/${pull?.number}`);

    const runs = await spawnCli(["runs"], { env: {}, cwd });
    expect(runs.code, runs.stderr).toBe(0);
    expect(runs.stdout).toMatch(/documentation\s+acme\/api#12\s+succeeded\s+\S+ \S+\s+\S+\s+2,340\s+\$/);
  }, 120_000);

  it("reviews a pull request with inline comments; a token that may not create check runs falls back to the sticky comment", async () => {
    const baseSha = repo.state.refs.get("heads/main") ?? "";
    const headSha = repo.commitFiles("validate-port", { "src/server.ts": "export function listen(port: number) {\n  if (port > 65535) throw new Error(\"bad\");\n  return port;\n}\n" });
    repo.addPull({
      number: 7,
      title: "Validate the port",
      body: "Reject ports above 65535.",
      draft: false,
      head: { ref: "validate-port", sha: headSha, repoFullName: "acme/api" },
      base: { ref: "main", sha: baseSha },
      files: [{ filename: "src/server.ts", status: "modified", additions: 1, deletions: 0, patch: "@@ -1,3 +1,4 @@\n export function listen(port: number) {\n+  if (port > 65535) throw new Error(\"bad\");\n   return port;\n }" }],
    });
    gh.expect("POST", "/repos/{owner}/{repo}/check-runs", () => ({ status: 403, body: { message: "Resource not accessible by personal access token" } }));
    const findings = {
      summary: "One problem.",
      findings: [{ path: "src/server.ts", line: 2, startLine: null, side: "RIGHT", severity: "major", body: "Port 0 is accepted too.", suggestion: null }],
    };
    models.expect("openai.responses", { kind: "text", text: JSON.stringify(findings), usage: { input: 900, output: 120 } });

    const result = await spawnCli(["run", "code-review", "--repo", "acme/api", "--pr", "7"], { env: env(), cwd });
    expect(result.code, result.stderr).toBe(0);

    expect(repo.state.reviews).toHaveLength(1);
    const review = repo.state.reviews[0];
    expect(review?.pullNumber).toBe(7);
    expect(review?.commitId).toBe(headSha);
    expect(review?.comments).toEqual([expect.objectContaining({ path: "src/server.ts", line: 2, side: "RIGHT", body: expect.stringContaining("Port 0 is accepted too.") })]);

    expect(repo.state.checkRuns.size).toBe(0);
    expect(gh.find("PATCH", "/repos/{owner}/{repo}/check-runs/{id}")).toHaveLength(0);
    const comments = [...repo.state.comments.values()].filter((c) => c.issueNumber === 7);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toContain("<!-- octoflow:run:");
    expect(result.stderr).toMatch(/octoflow: warning: could not open a progress surface on GitHub: Resource not accessible by personal access token/);
    expect(repo.state.pulls.filter((p) => p.number !== 7)).toHaveLength(0);
    // the result lines link the review it posted
    expect(result.stdout).toMatch(/^ {2}review https?:\/\/\S+\/pull\/7#pullrequestreview-\d+$/m);
    gh.verify();
    models.assertDone();
  }, 120_000);

  it("--dry-run prints the plan and prompt sizes after GET requests only, and records no run", async () => {
    const result = await spawnCli(["run", "bug-fix", "--repo", "acme/api", "--issue", "12", "--dry-run"], { env: env(), cwd });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("bug-fix · acme/api#12 (issue) · default model openai:gpt-4.1-mini · dry run: nothing is written");
    expect(lines[1]).toMatch(/^ {2}STEP\s+ROLE\s+NEEDS\s+MODEL\s+OUTPUT\s+PROMPT$/);
    expect(lines.slice(2).map((l) => l.trim().split(/\s+/).slice(0, 5))).toEqual([
      ["diagnose", "investigator", "-", "openai:gpt-4.1-mini", "none"],
      ["fix", "generate", "diagnose", "openai:gpt-4.1-mini", "pull_request"],
      ["regression-test", "test", "fix", "openai:gpt-4.1-mini", "pull_request"],
      ["review", "review", "fix,regression-test", "openai:gpt-4.1-mini", "review"],
      ["verify-1", "ci", "regression-test", "-", "none"],
      ["verify-fix-1", "generate", "verify-1", "openai:gpt-4.1-mini", "pull_request"],
      ["verify-2", "ci", "verify-fix-1", "-", "none"],
      ["verify-fix-2", "generate", "verify-2", "openai:gpt-4.1-mini", "pull_request"],
      ["verify-3", "ci", "verify-fix-2", "-", "none"],
      ["verify-fix-3", "generate", "verify-3", "openai:gpt-4.1-mini", "pull_request"],
      ["verify-4", "ci", "verify-fix-3", "-", "none"],
    ]);
    expect(lines[2]).toMatch(/\d+ B \(~\d+ tokens\)$/);
    expect(gh.requests.length).toBeGreaterThan(0);
    expect(gh.requests.filter((r) => r.method !== "GET")).toEqual([]);
    expect(models.requests).toHaveLength(0);
    expect(existsSync(join(cwd, "data"))).toBe(false);
    gh.verify();
  }, 60_000);

  it("Ctrl-C cancels the run: the model call is aborted, the check run and comment say cancelled, exit 130", async () => {
    const baseSha = repo.state.refs.get("heads/main") ?? "";
    const headSha = repo.commitFiles("slow", { "src/server.ts": "export const slow = true;\n" });
    repo.addPull({ number: 7, title: "Validate the port", body: "", draft: false, head: { ref: "slow", sha: headSha, repoFullName: "acme/api" }, base: { ref: "main", sha: baseSha }, files: [] });
    models.expect("openai.responses", { kind: "hang" });

    const started = startCli(["run", "code-review", "--repo", "acme/api", "--pr", "7"], { env: env(), cwd });
    // wait (without a time limit of our own) until the model request is in flight
    while (models.requests.length === 0) await new Promise((r) => setTimeout(r, 20));
    started.child.kill("SIGINT");
    const result = await started.done;
    await models.waitForHangClosed();

    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain("octoflow: interrupted; cancelling the run");
    expect(result.stdout).toMatch(/^cancelled: code-review on acme\/api#7/m);
    expect([...repo.state.checkRuns.values()][0]).toMatchObject({ status: "completed", conclusion: "cancelled" });
    expect(repo.state.reviews).toHaveLength(0);
    const sticky = [...repo.state.comments.values()].filter((c) => c.issueNumber === 7);
    expect(sticky).toHaveLength(1);
    expect(sticky[0]?.body).toContain("🚫 cancelled");
    const runs = await spawnCli(["runs", "--json"], { env: {}, cwd });
    expect((JSON.parse(runs.stdout) as { status: string }[]).map((r) => r.status)).toEqual(["cancelled"]);
    gh.verify();
  }, 120_000);

  it("a failed run exits 1 with a one-line reason, and GitHub shows the failure", async () => {
    const baseSha = repo.state.refs.get("heads/main") ?? "";
    const headSha = repo.commitFiles("feature", { "src/server.ts": "export const x = 1;\n" });
    repo.addPull({ number: 7, title: "Validate the port", body: "", draft: false, head: { ref: "feature", sha: headSha, repoFullName: "acme/api" }, base: { ref: "main", sha: baseSha }, files: [] });
    models.expect("openai.responses", { kind: "status", status: 401, body: { error: { message: "Incorrect API key provided", type: "invalid_request_error", code: "invalid_api_key" } } });

    const result = await spawnCli(["run", "code-review", "--repo", "acme/api", "--pr", "7"], { env: env(), cwd });
    expect(result.code).toBe(1);
    const last = result.stderr.trimEnd().split("\n").at(-1) ?? "";
    expect(last).toBe('octoflow run: run failed: step "review" failed: openai rejected the credentials (HTTP 401); check OPENAI_API_KEY');
    expect(result.stdout).toMatch(/^failed: code-review on acme\/api#7/m);
    expect([...repo.state.checkRuns.values()][0]).toMatchObject({ status: "completed", conclusion: "failure" });
    expect([...repo.state.comments.values()].filter((c) => c.issueNumber === 7)).toHaveLength(1);
    expect(repo.state.reviews).toHaveLength(0);
    expect(result.stderr).not.toContain(OPENAI_KEY);
    gh.verify();
    models.assertDone();
  }, 120_000);
});

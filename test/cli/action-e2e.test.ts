/**
 * `octoflow action` (what action.yml runs) end to end in a child process: an Actions event payload
 * goes through the app's triggers, gate and outputs against the fake GitHub and model server.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { installRepoModel, type RepoModel } from "../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { startModelServer, type ModelServer } from "../fakes/model-server.ts";
import { spawnCli } from "./helpers/spawn-cli.ts";
import { installTargetRoutes } from "./helpers/target-routes.ts";

const TOKEN = "ghs_actionstoken000000000000000000000000";
const examples = createRequire(import.meta.url)("@octokit/webhooks-examples") as { name: string; examples: Record<string, unknown>[] }[];
const example = (event: string, action: string) => {
  const found = examples.find((g) => g.name === event)?.examples.find((p) => p.action === action);
  if (!found) throw new Error(`no example for ${event}.${action}`);
  // Actions payloads carry no installation.
  const { installation: _installation, ...payload } = JSON.parse(JSON.stringify(found)) as Record<string, unknown>;
  return payload;
};

let gh: GitHubFake;
let models: ModelServer;
let repo: RepoModel;
let cwd: string;

beforeEach(async () => {
  gh = await startGitHubFake();
  models = await startModelServer();
  repo = installRepoModel(gh, { owner: "Codertocat", repo: "Hello-World", defaultBranch: "master", files: { "README.md": "# Hello\n" }, permissions: { Codertocat: "write", stranger: "read" } });
  installTargetRoutes(gh, repo, [{ number: 1, title: "Spelling error in the README file", body: "It looks like you accidently spelled 'commit' with two 't's." }]);
  cwd = mkdtempSync(join(tmpdir(), "octoflow-action-"));
});
afterEach(async () => {
  await gh.close();
  await models.close();
  rmSync(cwd, { recursive: true, force: true });
});

function actionEnv(event: string, payload: unknown, extra: Record<string, string> = {}) {
  const path = join(cwd, "event.json");
  writeFileSync(path, JSON.stringify(payload));
  return {
    GITHUB_EVENT_NAME: event,
    GITHUB_EVENT_PATH: path,
    GITHUB_TOKEN: TOKEN,
    // as on GitHub Enterprise Server (the fake serves the /api/v3 prefix too)
    GITHUB_API_URL: `${gh.url}/api/v3`,
    GITHUB_SERVER_URL: "https://github.com",
    GITHUB_RUN_ID: "4242",
    GITHUB_RUN_ATTEMPT: "1",
    OCTOFLOW_GITHUB_THROTTLE: "off",
    OPENAI_API_KEY: "sk-test-action-000000000000000000",
    OPENAI_BASE_URL: models.baseURL,
    // action.yml passes unset inputs as empty strings
    OCTOFLOW_WORKFLOW: "",
    OCTOFLOW_INPUTS: "",
    OCTOFLOW_MODEL: "",
    ANTHROPIC_API_KEY: "",
    DATABASE_URL: `sqlite:${join(cwd, "state", "octoflow.db")}`,
    ...extra,
  };
}

const docsReplies = () => {
  models.expect("openai.responses", {
    kind: "text",
    text: JSON.stringify({ summary: "Fixed the spelling.", edits: [{ kind: "modify", path: "README.md", content: null, blocks: [{ search: "# Hello", replace: "# Hello, world" }] }] }),
  });
  models.expect("openai.responses", { kind: "text", text: JSON.stringify({ summary: "Fine.", findings: [] }) });
};

describe("octoflow action (child process)", () => {
  it("an `octoflow:<workflow>` label from a writer runs the workflow with the app's outputs", async () => {
    docsReplies();
    const result = await spawnCli(["action"], { env: actionEnv("issues", { ...example("issues", "labeled"), label: { name: "octoflow:documentation" } }), cwd });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^succeeded: documentation on Codertocat\/Hello-World#1 \(run /m);
    expect(repo.state.pulls).toHaveLength(1);
    expect(repo.filesAt(repo.state.pulls[0]?.head.ref ?? "").get("README.md")).toBe("# Hello, world\n");
    expect([...repo.state.checkRuns.values()][0]).toMatchObject({ status: "completed", conclusion: "success" });
    expect([...repo.state.comments.values()].filter((c) => c.body.includes("<!-- octoflow:run:"))).toHaveLength(1);
    // the gate asked GitHub for the labeller's permission, as the app does
    expect(gh.find("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission").map((r) => r.path)).toEqual(["/repos/Codertocat/Hello-World/collaborators/Codertocat/permission"]);
    expect(result.stderr).not.toContain(TOKEN);
    gh.verify();
    models.assertDone();
  }, 120_000);

  it("an event the app ignores ends successfully with the reason and writes nothing", async () => {
    const result = await spawnCli(["action"], { env: actionEnv("issues", example("issues", "opened")), cwd });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe("octoflow: no run: Octoflow does not act on issues.opened\n");
    expect(gh.requests).toEqual([]);
  }, 60_000);

  it("a comment command from a reader gets the app's polite refusal and starts nothing", async () => {
    const payload = example("issue_comment", "created") as { comment: { body: string; user: { login: string } }; sender: { login: string } };
    payload.comment.body = "/octoflow run documentation";
    payload.comment.user.login = "stranger";
    payload.sender.login = "stranger";
    const result = await spawnCli(["action"], { env: actionEnv("issue_comment", payload), cwd });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^octoflow: no run: nothing in this issue_comment.created event starts a run/);
    const comments = [...repo.state.comments.values()];
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toContain("Thanks @stranger!");
    expect(models.requests).toHaveLength(0);
    gh.verify();
  }, 60_000);

  it("the workflow input runs that workflow on a workflow_dispatch target, with the inputs input", async () => {
    docsReplies();
    const payload = { inputs: { issue: "1" }, ref: "refs/heads/master", repository: example("issues", "labeled").repository, sender: { login: "Codertocat", type: "User" } };
    const result = await spawnCli(["action"], { env: actionEnv("workflow_dispatch", payload, { OCTOFLOW_WORKFLOW: "documentation", OCTOFLOW_INPUTS: "audience=operators\n" }), cwd });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^succeeded: documentation on Codertocat\/Hello-World#1/m);
    expect(JSON.stringify(models.requestsTo("openai.responses")[0]?.body)).toContain("operators");
    expect(repo.state.pulls).toHaveLength(1);
    gh.verify();
    models.assertDone();
  }, 120_000);

  it("outside Actions: usage line, exit 2, no request", async () => {
    const env: Record<string, string> = actionEnv("issues", {});
    delete env.GITHUB_EVENT_PATH;
    const result = await spawnCli(["action"], { env, cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^usage: octoflow action/);
    expect(result.stderr).toContain("GITHUB_EVENT_NAME and GITHUB_EVENT_PATH are not set");
    expect(gh.requests).toEqual([]);
  }, 60_000);
});

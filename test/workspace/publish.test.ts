import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { publishPullRequest } from "../../src/github/outputs/pull-request-output.ts";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import type { RunStore } from "../../src/workflows/ports.ts";
import type { RunRecord, StepOutput, StepRecord } from "../../src/workflows/types.ts";
import { installRepoModel, type RepoModel } from "../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { runRecord, silentLog, step, testOctokit, trigger } from "../github/support.ts";
import { output, tempDir, workspacesOver } from "./support.ts";

let gh: GitHubFake;
let model: RepoModel;
let store: RunStore;
let cache: Awaited<ReturnType<typeof tempDir>>;

const README = ["# app", "", "## Usage", "", "Run it.", "", "## Testing", "", "Run the tests.", ""].join("\n");

beforeEach(async () => {
  gh = await startGitHubFake();
  model = installRepoModel(gh, { owner: "octo", repo: "app", files: { "README.md": README, "src/app.ts": "export const a = 1;\n" } });
  store = createMemoryRunStore();
  cache = await tempDir();
});
afterEach(async () => {
  await gh.close();
  await store.close();
  await cache.remove();
});

const records = (run: RunRecord, outputs: Record<string, StepOutput>): StepRecord[] =>
  run.plan.steps.map((s) => {
    const o = outputs[String(s.id)];
    return { runId: run.id, stepId: s.id, status: o ? "succeeded" : "skipped", attempts: 1, ...(o ? { output: o } : {}) };
  });

/** Runs the steps' views the way the agents do (so the snapshot is recorded and cached), then publishes. */
async function runAndPublish(run: RunRecord, layers: Record<string, (view: Awaited<ReturnType<ReturnType<typeof workspacesOver>["viewFor"]>>) => Promise<void>>) {
  const workspaces = workspacesOver(gh.url, store, cache.dir);
  const outputs: Record<string, StepOutput> = {};
  for (const s of run.plan.steps) {
    const view = await workspaces.viewFor({ runId: String(run.id), trigger: run.trigger, plan: run.plan, step: s, upstream: outputs });
    await layers[String(s.id)]?.(view);
    outputs[String(s.id)] = output(view.changes(), { text: `${s.id} did its part` });
  }
  await store.createRun(run, []);
  const before = gh.requests.length;
  const result = await publishPullRequest({ octokit: testOctokit(gh.url), store, log: silentLog, workspaces }, run, records(run, outputs));
  return { result, requests: gh.requests.slice(before), workspaces, outputs };
}

describe("publishing from the workspace", () => {
  it("costs the same few GitHub requests per commit whatever the number of files: contents inline in one tree, nothing read again", async () => {
    const counts: number[] = [];
    for (const n of [1, 10, 50]) {
      const gen = step("generate", "generate", "pull_request");
      const run = runRecord(`run-${n}`, [gen], trigger({ number: 100 + n }));
      const { result, requests } = await runAndPublish(run, {
        generate: async (view) => {
          for (let i = 0; i < n; i++) await view.writeFile(`src/gen/file-${i}.ts`, `export const v${i} = ${i};\n`);
          await view.writeFile("README.md", `${README}More.\n`);
        },
      });
      expect(result?.commits).toHaveLength(1);
      counts.push(requests.length);
      expect(requests.map((r) => r.operationId)).toEqual(["git/get-ref", "git/get-commit", "git/create-tree", "git/create-commit", "git/create-ref", "pulls/create"]);
      const tree = requests.find((r) => r.operationId === "git/create-tree")?.body as { tree: { path: string; content?: string }[] };
      expect(tree.tree).toHaveLength(n + 1);
      expect(tree.tree.every((e) => typeof e.content === "string")).toBe(true);
      const files = model.filesAt(result?.branch ?? "");
      expect(files.get(`src/gen/file-${n - 1}.ts`)).toBe(`export const v${n - 1} = ${n - 1};\n`);
      expect(files.get("README.md")).toBe(`${README}More.\n`);
    }
    gh.verify();
    expect(counts).toEqual([6, 6, 6]);
  });

  it("lands two parallel edits of the same README, one commit per producing step, merged three-way", async () => {
    const generate = step("generate", "generate", "pull_request");
    const tests = step("tests", "test", "pull_request", ["generate"]);
    const docs = step("docs", "docs", "pull_request", ["generate"]);
    const run = runRecord("run-par", [generate, tests, docs]);
    const { result } = await runAndPublish(run, {
      generate: (view) => view.writeFile("src/app.ts", "export const a = 2;\n"),
      tests: async (view) => {
        await view.writeFile("README.md", README.replace("Run the tests.", "Run the tests with `npm test`."));
        await view.writeFile("test/app.test.ts", "test\n");
      },
      docs: (view) => view.writeFile("README.md", README.replace("Run it.", "Run it with `npm start`.")),
    });
    gh.verify();
    expect(result?.commits).toHaveLength(3);
    const files = model.filesAt(result?.branch ?? "");
    expect(files.get("README.md")).toContain("Run the tests with `npm test`.");
    expect(files.get("README.md")).toContain("Run it with `npm start`.");
    expect(files.get("src/app.ts")).toBe("export const a = 2;\n");
    expect(model.filesAt("main").get("README.md")).toBe(README);
    const messages = result?.commits.map((sha) => model.state.commits.get(sha)?.message.split("\n")[0]);
    expect(messages).toEqual(["generate: generate did its part", "tests: tests did its part", "docs: docs did its part"]);
    expect(gh.find("GET", "/repos/{owner}/{repo}/contents/{path}")).toHaveLength(0);
    expect(gh.find("POST", "/repos/{owner}/{repo}/git/blobs")).toHaveLength(0);
  });

  it("leaves out the later of two conflicting producing steps' changes to a file and says so", async () => {
    const tests = step("tests", "test", "pull_request");
    const docs = step("docs", "docs", "pull_request");
    const run = runRecord("run-conflict", [tests, docs]);
    const { result } = await runAndPublish(run, {
      tests: (view) => view.writeFile("README.md", README.replace("Run it.", "Run it daily.")),
      docs: async (view) => {
        await view.writeFile("README.md", README.replace("Run it.", "Run it weekly."));
        await view.writeFile("docs/x.md", "x\n");
      },
    });
    gh.verify();
    const files = model.filesAt(result?.branch ?? "");
    expect(files.get("README.md")).toContain("Run it daily.");
    expect(files.get("docs/x.md")).toBe("x\n");
    expect(result?.notes.join("\n")).toMatch(/"tests" and "docs" changed README\.md \(line 5\).*left out/);
    expect(model.state.pulls[0]?.body).toMatch(/README\.md \(line 5\)/);
  });

  it("a delivery retried after the pull request failed commits nothing twice", async () => {
    const generate = step("generate", "generate", "pull_request");
    const tests = step("tests", "test", "pull_request", ["generate"]);
    const run = runRecord("run-retry", [generate, tests]);
    gh.expect("POST", "/repos/{owner}/{repo}/pulls", () => ({ status: 502, body: { message: "Bad Gateway" } }));
    const workspaces = workspacesOver(gh.url, store, cache.dir);
    const outputs = { generate: output([{ path: "a.txt", content: "a\n" }]), tests: output([{ path: "b.txt", content: "b\n" }]) };
    await store.createRun(run, []);
    const deps = { octokit: testOctokit(gh.url), store, log: silentLog, workspaces };
    await expect(publishPullRequest(deps, run, records(run, outputs))).rejects.toThrow();
    const again = await publishPullRequest(deps, run, records(run, outputs));
    gh.verify();
    expect(again?.commits).toEqual([]);
    expect(gh.find("POST", "/repos/{owner}/{repo}/git/commits")).toHaveLength(2);
    expect(model.state.pulls).toHaveLength(1);
    expect(model.filesAt(again?.branch ?? "").get("b.txt")).toBe("b\n");
  });

  it("adds its commits on top of commits pushed to the bot's branch meanwhile, merging the files both changed", async () => {
    const gen = step("generate", "generate", "pull_request");
    const first = runRecord("run-a", [gen]);
    const a = await runAndPublish(first, { generate: (view) => view.writeFile("README.md", README.replace("Run it.", "Run it now.")) });
    const branch = a.result?.branch ?? "";
    // run b starts from the bot's branch (its base is recorded), then a maintainer pushes to the branch
    const second = runRecord("run-b", [gen]);
    const workspaces = workspacesOver(gh.url, store, cache.dir);
    const view = await workspaces.viewFor({ runId: "run-b", trigger: second.trigger, plan: second.plan, step: gen, upstream: {} });
    expect(view.baseSha).toBe(model.state.refs.get(`heads/${branch}`));
    await view.writeFile("README.md", README.replace("Run it.", "Run it now.").replace("Run the tests.", "Run the tests often."));
    model.commitFiles(branch, { "README.md": README.replace("Run it.", "Run it now.").replace("# app", "# The app") }, "maintainer fix");
    await store.createRun(second, []);
    const b = await publishPullRequest({ octokit: testOctokit(gh.url), store, log: silentLog, workspaces }, second, records(second, { generate: output(view.changes()) }));
    gh.verify();
    const readme = model.filesAt(branch).get("README.md");
    expect(readme).toContain("# The app");
    expect(readme).toContain("Run the tests often.");
    expect(b?.notes.join("\n")).toMatch(/new commits that were not Octoflow's/);
    expect(model.state.pulls).toHaveLength(1);
  });

  it("for a pull request, starts from its head and opens the pull request against its branch", async () => {
    const head = model.commitFiles("feature", { "src/app.ts": "export const a = 10;\n" });
    const pullRequest = { headSha: head, baseSha: model.state.refs.get("heads/main") ?? "", headRef: "feature", baseRef: "main", fromFork: false, draft: false };
    const gen = step("generate", "generate", "pull_request");
    const run = runRecord("run-pr", [gen], trigger({ kind: "command", number: 12, isPullRequest: true, pullRequest }));
    let seen: string | undefined;
    const { result } = await runAndPublish(run, {
      generate: async (view) => {
        seen = await view.readFile("src/app.ts");
        await view.writeFile("src/app.ts", "export const a = 11;\n");
      },
    });
    gh.verify();
    expect(seen).toBe("export const a = 10;\n");
    const pr = model.state.pulls.find((p) => p.head.ref === result?.branch);
    expect(pr?.base.ref).toBe("feature");
    expect(pr?.body).not.toContain("Closes #");
    expect(model.state.commits.get(result?.commits[0] ?? "")?.parents).toEqual([head]);
    expect(model.filesAt(result?.branch ?? "").get("src/app.ts")).toBe("export const a = 11;\n");
    expect(model.filesAt("feature").get("src/app.ts")).toBe("export const a = 10;\n");
  });
});

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors/config-error.ts";
import { createRepoSetupLoader } from "../../src/github/repo-setup-loader.ts";
import { loadBuiltinTemplates } from "../../src/workflows/load-template.ts";
import { installRepoModel, type RepoModel } from "../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { createFakeClock } from "../fakes/fake-clock.ts";
import { testOctokit } from "./support.ts";

let gh: GitHubFake;
let model: RepoModel;
beforeEach(async () => {
  gh = await startGitHubFake();
  model = installRepoModel(gh, {
    owner: "octo",
    repo: "app",
    defaultBranch: "trunk",
    files: {
      ".github/octoflow.yml": "defaultWorkflow: triage\n",
      ".github/octoflow/workflows/triage.yml": "name: triage\ndescription: Triage an issue\nsteps:\n  - id: look\n    role: review\n    prompt: look\n",
    },
  });
});
afterEach(async () => {
  await gh.close();
});

const repo = { owner: "octo", name: "app", defaultBranch: "trunk" };

describe("repo setup loader", () => {
  it("reads config and templates from the default branch only, merges them with the built-ins, caches for the TTL", async () => {
    const clock = createFakeClock({ mode: "manual" });
    const loader = createRepoSetupLoader({ builtins: loadBuiltinTemplates(), clock, ttlMs: 30_000 });
    const octokit = testOctokit(gh.url);
    const setup = await loader.load(octokit, repo);
    expect(setup.config.defaultWorkflow).toBe("triage");
    expect(setup.catalog.names()).toEqual(expect.arrayContaining(["triage", "bug-fix", "code-review"]));
    expect(gh.requests.every((r) => r.query.get("ref") === "trunk")).toBe(true);
    const reads = gh.requests.length;
    await loader.load(octokit, repo);
    expect(gh.requests.length).toBe(reads);
    await clock.advance(30_000);
    // a pull request's branch changing the config changes nothing: only trunk is read
    model.commitFiles("evil-branch", { ".github/octoflow.yml": "trust:\n  minPermission: admin\n" });
    expect((await loader.load(octokit, repo)).config.trust.minPermission).toBe("write");
    expect(gh.requests.length).toBe(reads * 2);
    gh.verify();
  });

  it("reports an invalid template and a config naming an unknown workflow with file and line, and caches the error for the TTL", async () => {
    model.commitFiles("trunk", { ".github/octoflow/workflows/triage.yml": "name: triage\ndescription: x\nsteps:\n  - id: look\n    role: nobody\n    prompt: hi\n" });
    const clock = createFakeClock({ mode: "manual" });
    const loader = createRepoSetupLoader({ builtins: loadBuiltinTemplates(), clock, ttlMs: 30_000 });
    const octokit = testOctokit(gh.url);
    const error = await loader.load(octokit, repo).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.join("\n")).toMatch(/\.github\/octoflow\/workflows\/triage\.yml:5/);
    const reads = gh.requests.length;
    model.commitFiles("trunk", { ".github/octoflow/workflows/triage.yml": "name: other\ndescription: x\nsteps:\n  - id: look\n    role: review\n    prompt: hi\n" });
    // within the TTL the failed load is answered from the cache: no read, no parse
    expect(await loader.load(octokit, repo).catch((e: unknown) => e)).toBe(error);
    expect(gh.requests.length).toBe(reads);
    await clock.advance(30_000);
    const again = await loader.load(octokit, repo).catch((e: unknown) => e);
    expect((again as ConfigError).problems.join("\n")).toContain('defaultWorkflow: unknown workflow "triage"');
    gh.verify();
  });

  it("does not cache a transient failure: the next delivery reads again", async () => {
    gh.expect("GET", "/repos/octo/app/contents/{path}", () => ({ status: 502, body: { message: "Bad gateway" } }), { times: 1 });
    const loader = createRepoSetupLoader({ builtins: loadBuiltinTemplates(), clock: createFakeClock({ mode: "manual" }) });
    const octokit = testOctokit(gh.url);
    const error = await loader.load(octokit, repo).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(ConfigError);
    expect((await loader.load(octokit, repo)).config.defaultWorkflow).toBe("triage");
  });
});

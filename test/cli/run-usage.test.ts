/**
 * Bad arguments to `octoflow run` (the real CLI in a child process): a usage line, exit 2, and
 * nothing written — no request at all when the arguments alone are wrong, GETs only when the
 * repository had to be read to know its workflows.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installRepoModel } from "../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { spawnCli } from "./helpers/spawn-cli.ts";
import { installTargetRoutes } from "./helpers/target-routes.ts";

const TOKEN = "ghp_usagetesttoken0000000000000000000000";
let gh: GitHubFake;
let cwd: string;

beforeAll(async () => {
  gh = await startGitHubFake();
  const repo = installRepoModel(gh, { owner: "acme", repo: "api", files: { "README.md": "# api\n" } });
  installTargetRoutes(gh, repo, [{ number: 12, title: "Docs", body: "Please." }]);
  cwd = mkdtempSync(join(tmpdir(), "octoflow-cli-usage-"));
});
afterAll(async () => {
  await gh.close();
  rmSync(cwd, { recursive: true, force: true });
});

const baseEnv = () => ({ GITHUB_TOKEN: TOKEN, GITHUB_API_URL: gh.url, OCTOFLOW_GITHUB_THROTTLE: "off", OPENAI_API_KEY: "sk-test-usage-00000000000000000000" });
const USAGE = /^usage: octoflow run <workflow> --repo owner\/name \(--issue N \| --pr N\)/;

describe("octoflow run with bad arguments", () => {
  it.each([
    ["a malformed --repo", ["run", "documentation", "--repo", "acme", "--issue", "12"], baseEnv, '--repo must be owner/name, got "acme"'],
    ["--issue and --pr together", ["run", "documentation", "--repo", "acme/api", "--issue", "12", "--pr", "3"], baseEnv, "give --issue or --pr, not both"],
    ["no token", ["run", "documentation", "--repo", "acme/api", "--issue", "12"], () => ({ GITHUB_API_URL: gh.url }), "set GITHUB_TOKEN (or GH_TOKEN)"],
    ["a bad --model", ["run", "documentation", "--repo", "acme/api", "--issue", "12", "--model", "gpt-5"], baseEnv, "--model must be <provider>:<model>"],
    ["an unknown option", ["run", "documentation", "--repo", "acme/api", "--issue", "12", "--force"], baseEnv, "Unknown option '--force'"],
    ["a bad GITHUB_API_URL", ["run", "documentation", "--repo", "acme/api", "--issue", "12"], () => ({ ...baseEnv(), GITHUB_API_URL: "ghe.example.com" }), "GITHUB_API_URL must be an http(s) URL"],
  ])("%s: usage line, exit 2, no request", async (_name, args, env, reason) => {
    const before = gh.requests.length;
    const result = await spawnCli(args, { env: env(), cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(USAGE);
    expect(result.stderr).toContain(reason);
    expect(result.stdout).toBe("");
    expect(result.stderr).not.toContain(TOKEN);
    expect(gh.requests.length).toBe(before);
    expect(existsSync(join(cwd, "data"))).toBe(false);
  });

  it.each([
    ["an unknown workflow", ["run", "nope", "--repo", "acme/api", "--issue", "12"], 'unknown workflow "nope" (known in acme/api: address-review, bug-fix, code-review, documentation,'],
    ["an input the workflow does not take", ["run", "documentation", "--repo", "acme/api", "--issue", "12", "--input", "colour=red"], 'unknown input "colour" for workflow documentation'],
    ["a model whose key is not set", ["run", "documentation", "--repo", "acme/api", "--issue", "12", "--model", "anthropic:claude-sonnet-4-5"], "anthropic:claude-sonnet-4-5 (steps write, review) needs ANTHROPIC_API_KEY"],
  ])("%s: usage line, exit 2, GET requests only", async (_name, args, reason) => {
    const before = gh.requests.length;
    const result = await spawnCli(args, { env: baseEnv(), cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(USAGE);
    expect(result.stderr).toContain(reason);
    const seen = gh.requests.slice(before);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((r) => r.method !== "GET")).toEqual([]);
    expect(existsSync(join(cwd, "data"))).toBe(false);
    gh.verify();
  });

  it("a repository the token cannot read: one-line reason, exit 1, nothing written", async () => {
    const before = gh.requests.length;
    const result = await spawnCli(["run", "documentation", "--repo", "acme/missing", "--issue", "1"], { env: baseEnv(), cwd });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("octoflow run: the repository acme/missing was not found, or the token cannot read it\n");
    expect(gh.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual(["GET /repos/acme/missing"]);
    expect(existsSync(join(cwd, "data"))).toBe(false);
    // the fake records the unmatched route as a failure; that is the point of this test
    gh.failures.splice(0);
  });
});

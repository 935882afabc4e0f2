/**
 * Contract with GitHub's REST API. Every request of the suite goes through the fake GitHub, which
 * validates it against the official OpenAPI description and fails the test otherwise (see
 * test/fakes/github-server.ts); GraphQL requests against GitHub's GraphQL schema. This file proves
 * those validators can fail, and statically checks that every REST method the GitHub edge calls is
 * an operation of the description.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REVIEW_THREADS_QUERY } from "../../src/github/outputs/review-threads.ts";
import { installRepoModel } from "../fakes/github-repo-model.ts";
import { loadGitHubOpenApi, startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { testOctokit } from "./support.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith(".ts") ? [path] : [];
  });
}

let gh: GitHubFake;
beforeAll(async () => {
  gh = await startGitHubFake();
});
afterAll(async () => {
  await gh.close();
});

describe("GitHub OpenAPI contract", () => {
  it("every `octokit.rest.*` method used by src/github and src/progress is an operation of api.github.com", async () => {
    const api = await loadGitHubOpenApi();
    const paths = (api.definition as { paths: Record<string, Record<string, unknown>> }).paths;
    const octokit = testOctokit(gh.url) as unknown as { rest: Record<string, Record<string, { endpoint: { DEFAULTS: { method: string; url: string } } }>> };
    const used = new Set<string>();
    for (const file of [...sources(join(ROOT, "src/github")), ...sources(join(ROOT, "src/progress"))]) {
      for (const m of readFileSync(file, "utf8").matchAll(/\.rest\.(\w+)\.(\w+)\b/g)) used.add(`${m[1]}.${m[2]}`);
    }
    expect(used.size).toBeGreaterThan(10);
    const unknown: string[] = [];
    for (const name of used) {
      const [ns = "", method = ""] = name.split(".");
      const defaults = octokit.rest[ns]?.[method]?.endpoint.DEFAULTS;
      if (!defaults || !paths[defaults.url]?.[defaults.method.toLowerCase()]) unknown.push(`${name} → ${defaults?.method} ${defaults?.url}`);
    }
    expect(unknown).toEqual([]);
  });

  it("the fake rejects an unknown operation and an invalid body, and verify() reports both", async () => {
    gh.allow("POST", "/repos/{owner}/{repo}/check-runs", () => ({ status: 201, body: { id: 1 } }));
    const octokit = testOctokit(gh.url);
    await expect(octokit.request("GET /repos/{owner}/{repo}/no-such-thing", { owner: "o", repo: "r" })).rejects.toMatchObject({ status: 404 });
    await expect(octokit.rest.checks.create({ owner: "o", repo: "r", name: "x", head_sha: "abc", status: "bogus" as "queued" })).rejects.toMatchObject({ status: 422 });
    await expect(octokit.rest.checks.create({ owner: "o", repo: "r", name: "x", head_sha: "abc", status: "queued" })).resolves.toMatchObject({ status: 201 });
    expect(() => gh.verify()).toThrow(/no such operation[\s\S]*requestBody\/status/);
    gh.failures.length = 0;
  });

  it("verify() reports an expectation that was never used", async () => {
    const fake = await startGitHubFake();
    fake.expect("GET", "/repos/{owner}/{repo}", () => ({ body: {} }));
    expect(() => fake.verify()).toThrow(/expected 1 call\(s\), got 0/);
    await fake.close();
  });

  it("GraphQL is validated against GitHub's schema: the app's query passes, an unknown field fails, a refusal has GitHub's shape", async () => {
    const fake = await startGitHubFake();
    const model = installRepoModel(fake, { owner: "o", repo: "r" });
    const octokit = testOctokit(fake.url);
    await expect(octokit.graphql(REVIEW_THREADS_QUERY, { owner: "o", repo: "r", pull: 1, after: null })).resolves.toEqual({
      repository: { pullRequest: { reviewThreads: { pageInfo: { hasNextPage: false, endCursor: null }, nodes: [] } } },
    });
    model.reviewThreads.state.forbidden.add("resolveReviewThread");
    await expect(octokit.graphql(`mutation { resolveReviewThread(input: { threadId: "PRRT_1" }) { thread { id } } }`)).rejects.toMatchObject({
      errors: [{ type: "FORBIDDEN", path: ["resolveReviewThread"], message: "Resource not accessible by integration" }],
    });
    fake.verify();
    await expect(octokit.graphql(`query { repository(owner: "o", name: "r") { pullRequest(number: 1) { reviewThreads(first: 1) { nodes { notAField } } } } }`)).rejects.toThrow(/notAField/);
    expect(() => fake.verify()).toThrow(/POST \/graphql: Cannot query field "notAField" on type "PullRequestReviewThread"/);
    await fake.close();
  });
});

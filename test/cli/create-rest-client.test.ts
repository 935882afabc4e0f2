import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRestClient, githubApiUrl } from "../../src/cli/create-rest-client.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { ReadOnlyViolationError } from "../../src/errors/read-only-violation-error.ts";

const repoBody = (full: string) => ({ id: 1, full_name: full, name: full.split("/")[1], default_branch: "trunk" });

let gh: GitHubFake;
beforeEach(async () => {
  gh = await startGitHubFake({ validate: false });
});
afterEach(async () => {
  await gh.close();
});

describe("githubApiUrl", () => {
  it("defaults to api.github.com and accepts a GHES API URL", () => {
    expect(githubApiUrl({})).toBe("https://api.github.com");
    expect(githubApiUrl({ GITHUB_API_URL: "https://ghe.example.com/api/v3/" })).toBe("https://ghe.example.com/api/v3");
    expect(() => githubApiUrl({ GITHUB_API_URL: "ghe.example.com" })).toThrow(/GITHUB_API_URL must be an http\(s\) URL/);
  });
});

describe("createRestClient", () => {
  it("talks to GITHUB_API_URL (a GHES path prefix included) with the token", async () => {
    const seen: { url: string; authorization: string | undefined; agent: string | undefined }[] = [];
    const server = createServer((req, res) => {
      seen.push({ url: req.url ?? "", authorization: req.headers.authorization, agent: req.headers["user-agent"] });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(repoBody("acme/api")));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const octokit = createRestClient({ token: "ghp_secret_for_test", baseUrl: githubApiUrl({ GITHUB_API_URL: `http://127.0.0.1:${port}/api/v3/` }) });
      const { data } = await octokit.rest.repos.get({ owner: "acme", repo: "api" });
      expect(data.default_branch).toBe("trunk");
      expect(seen).toEqual([{ url: "/api/v3/repos/acme/api", authorization: "token ghp_secret_for_test", agent: expect.stringMatching(/^octoflow-cli/) }]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("retries a 502 (retry plugin) and succeeds", async () => {
    gh.expect("GET", "/repos/{owner}/{repo}", () => ({ body: repoBody("acme/api") }));
    gh.expect("GET", "/repos/{owner}/{repo}", () => ({ status: 502, body: { message: "bad gateway" } }));
    const octokit = createRestClient({ token: "t", baseUrl: gh.url });
    const { data } = await octokit.rest.repos.get({ owner: "acme", repo: "api" });
    expect(data.full_name).toBe("acme/api");
    expect(gh.requests).toHaveLength(2);
    gh.verify();
  });

  it("in read-only mode refuses writes before they leave the process, and allows GETs", async () => {
    gh.expect("GET", "/repos/{owner}/{repo}", () => ({ body: repoBody("acme/api") }));
    const octokit = createRestClient({ baseUrl: gh.url, readOnly: true, warnings: () => {} });
    await expect(octokit.rest.issues.createComment({ owner: "acme", repo: "api", issue_number: 1, body: "x" })).rejects.toBeInstanceOf(ReadOnlyViolationError);
    await expect(octokit.request("DELETE /repos/{owner}/{repo}", { owner: "acme", repo: "api" })).rejects.toThrow(/refused DELETE/);
    expect(gh.requests).toHaveLength(0);
    await octokit.rest.repos.get({ owner: "acme", repo: "api" });
    expect(gh.requests.map((r) => r.method)).toEqual(["GET"]);
    expect(gh.requests[0]?.headers.authorization).toBeUndefined();
    gh.verify();
  });
});

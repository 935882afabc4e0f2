/**
 * The app's GitHub client (`resilientOctokit`) against the fake GitHub with injected faults: primary
 * and secondary rate limits are retried after GitHub's own hints, 5xx with backoff, silent requests are
 * cut off; a few tries, then a clear error. Delays run on a fake clock (recorded, not waited for), except
 * the throttling plugin's real write pacing in the Probot test.
 */
import { Probot, ProbotOctokit } from "probot";
import { afterEach, describe, expect, it } from "vitest";
import { resilientOctokit, type GitHubClient } from "../../src/github/client.ts";
import { GITHUB_RETRY_POLICY } from "../../src/resilience/retry-policy.ts";
import { createFakeClock, type FakeClock } from "../fakes/fake-clock.ts";
import { installRepoModel, type RepoModel } from "../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { testPrivateKey } from "../github/app-harness.ts";
import { silentLog } from "../github/support.ts";

let gh: GitHubFake | undefined;
afterEach(async () => {
  await gh?.close();
  gh = undefined;
});

async function setup(options: { idleTimeoutMs?: number } = {}): Promise<{ gh: GitHubFake; repo: RepoModel; clock: FakeClock; octokit: GitHubClient }> {
  gh = await startGitHubFake();
  const repo = installRepoModel(gh, { owner: "octo", repo: "app", files: { "README.md": "# app\n" } });
  const clock = createFakeClock();
  const Octokit = resilientOctokit(ProbotOctokit, { clock, random: () => 0.5, ...options });
  // the throttling plugin's pacing is real time; it is exercised in the Probot test below
  const octokit = new Octokit({ auth: { token: "ghs_test_token" }, baseUrl: gh.url, throttle: { enabled: false }, log: silentLog }) as GitHubClient;
  return { gh, repo, clock, octokit };
}

const blob = (octokit: GitHubClient) => octokit.rest.git.createBlob({ owner: "octo", repo: "app", content: "hello", encoding: "utf-8" });
const pull = (octokit: GitHubClient) => octokit.rest.pulls.create({ owner: "octo", repo: "app", title: "Fix", head: "fix", base: "main" });
type Failure = Error & { status?: number; attempts?: number; retryAfterMs?: number };
const failure = (promise: Promise<unknown>): Promise<Failure> => promise.then(() => new Error("expected a failure"), (e: unknown) => e as Failure);

describe("GitHub client retries", () => {
  it("a secondary rate limit is retried after retry-after, or after a minute without it", async () => {
    const { gh, clock, octokit } = await setup();
    gh.fault("POST", "/repos/{owner}/{repo}/git/blobs", { kind: "secondary-rate-limit", retryAfterSeconds: 3 }, { kind: "secondary-rate-limit", status: 429 });
    const { data } = await blob(octokit);
    expect(data.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(gh.find("POST", "/repos/{owner}/{repo}/git/blobs")).toHaveLength(3);
    expect(clock.sleeps).toEqual([3_000, 60_000]);
    gh.verify();
  });

  it("a primary rate limit waits for x-ratelimit-reset; a reset beyond the cap fails at once, keeping the hint", async () => {
    const { gh, clock, octokit } = await setup();
    const inSeconds = (s: number) => Math.floor(clock.now() / 1000) + s;
    gh.expect("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}", () => ({ status: 200, body: { id: 5 } }));
    gh.fault("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}", { kind: "rate-limit", resetAtSeconds: inSeconds(20) });
    await octokit.rest.checks.update({ owner: "octo", repo: "app", check_run_id: 5, status: "completed", conclusion: "success" });
    expect(clock.sleeps).toHaveLength(1);
    expect(clock.sleeps[0]).toBeGreaterThanOrEqual(20_000);
    expect(clock.sleeps[0]).toBeLessThanOrEqual(21_000);

    gh.fault("POST", "/repos/{owner}/{repo}/git/blobs", { kind: "rate-limit", resetAtSeconds: inSeconds(3_600) });
    const error = await failure(blob(octokit));
    expect(error).toMatchObject({ name: "RetriesExhaustedError", status: 403, attempts: 1 });
    expect(error.message).toMatch(/^GitHub failed after 1 attempt \(it asked to wait 60 min, longer than the 60 s Octoflow waits\): GitHub answered HTTP 403: API rate limit exceeded/);
    // a durable delivery can wait for the reset
    expect(error.retryAfterMs).toBeGreaterThan(3_500_000);
    expect(clock.sleeps).toHaveLength(1);
    gh.verify();
  });

  it("5xx is retried with backoff until it succeeds", async () => {
    const { gh, clock, octokit, repo } = await setup();
    repo.state.refs.set("heads/fix", repo.state.refs.get("heads/main") ?? "");
    gh.fault("POST", "/repos/{owner}/{repo}/pulls", { kind: "status", status: 502 }, { kind: "status", status: 500 }, { kind: "status", status: 503 });
    const { data } = await pull(octokit);
    expect(data.number).toBeGreaterThan(0);
    expect(gh.find("POST", "/repos/{owner}/{repo}/pulls")).toHaveLength(4);
    expect(repo.state.pulls).toHaveLength(1);
    // equal jitter with random() = 0.5 over 1 s, 2 s, 4 s
    expect(clock.sleeps).toEqual([750, 1_500, 3_000]);
    gh.verify();
  });

  it("gives up after the policy's attempts with the status kept and the attempts said", async () => {
    const { gh, octokit } = await setup();
    const attempts = GITHUB_RETRY_POLICY.retries + 1;
    gh.fault("POST", "/repos/{owner}/{repo}/pulls", ...Array.from({ length: attempts }, () => ({ kind: "status" as const, status: 502 })));
    const error = await failure(pull(octokit));
    expect(error).toMatchObject({ name: "RetriesExhaustedError", status: 502, attempts, message: `GitHub failed after ${attempts} attempts: GitHub answered HTTP 502: Server Error` });
    expect(gh.find("POST", "/repos/{owner}/{repo}/pulls")).toHaveLength(attempts);
    gh.verify();
  });

  it("secondary limits without a hint stop within the total wait budget", async () => {
    const { gh, clock, octokit } = await setup();
    gh.fault("POST", "/repos/{owner}/{repo}/git/blobs", { kind: "secondary-rate-limit" }, { kind: "secondary-rate-limit" }, { kind: "secondary-rate-limit" });
    await expect(blob(octokit)).rejects.toMatchObject({ name: "RetriesExhaustedError", status: 403, attempts: 3 });
    expect(clock.sleeps).toEqual([60_000, 60_000]);
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(GITHUB_RETRY_POLICY.maxTotalDelayMs ?? 0);
    gh.verify();
  });

  it("404, 422 and permission refusals pass unchanged, without a retry", async () => {
    const { gh, clock, octokit } = await setup();
    gh.fault("GET", "/repos/{owner}/{repo}/contents/{path}", { kind: "status", status: 404, body: { message: "Not Found" } });
    gh.fault("POST", "/repos/{owner}/{repo}/pulls", { kind: "status", status: 422, body: { message: "Validation Failed" } }, { kind: "status", status: 403, body: { message: "Resource not accessible by integration" } });
    expect(await failure(octokit.rest.repos.getContent({ owner: "octo", repo: "app", path: "nope.md" }))).toMatchObject({ name: "HttpError", status: 404 });
    expect(await failure(pull(octokit))).toMatchObject({ name: "HttpError", status: 422 });
    expect(await failure(pull(octokit))).toMatchObject({ name: "HttpError", status: 403 });
    expect(clock.sleeps).toEqual([]);
    gh.verify();
  });

  it("a request that stalls after its headers, or is never answered, is cut off and retried", async () => {
    const { gh, octokit } = await setup({ idleTimeoutMs: 200 });
    gh.fault("GET", "/repos/{owner}/{repo}/contents/{path}", { kind: "stall" }, { kind: "silent" });
    const { data } = await octokit.rest.repos.getContent({ owner: "octo", repo: "app", path: "README.md" });
    expect(Buffer.from((data as { content: string }).content, "base64").toString("utf8")).toBe("# app\n");
    expect(gh.find("GET", "/repos/{owner}/{repo}/contents/{path}")).toHaveLength(3);
    gh.verify();
  });
});

describe("GitHub client in Probot", () => {
  it("an installation client from Probot retries a secondary limit itself (Probot's and the plugins' retries are off)", { timeout: 30_000 }, async () => {
    gh = await startGitHubFake();
    installRepoModel(gh, { owner: "octo", repo: "app", files: { "README.md": "# app\n" } });
    const clock = createFakeClock();
    const probot = new Probot({ appId: 123, privateKey: testPrivateKey(), baseUrl: gh.url, log: silentLog, Octokit: resilientOctokit(ProbotOctokit, { clock }) });
    const octokit = (await probot.auth(1)) as GitHubClient;
    gh.fault("POST", "/repos/{owner}/{repo}/git/blobs", { kind: "secondary-rate-limit", retryAfterSeconds: 2 }, { kind: "status", status: 502 }, { kind: "status", status: 502 });
    const { data } = await blob(octokit);
    expect(data.sha).toMatch(/^[0-9a-f]{40}$/);
    // exactly one retry layer: every retry was ours (one delay each on our clock), none the plugins'
    expect(gh.find("POST", "/repos/{owner}/{repo}/git/blobs")).toHaveLength(4);
    expect(clock.sleeps[0]).toBe(2_000);
    expect(clock.sleeps).toHaveLength(3);
    gh.verify();
  });
});

/**
 * Findings that live and die, end to end over the fake GitHub (REST validated against the OpenAPI
 * description, GraphQL against GitHub's schema): a pull request whose branch really changes between
 * reviews, reviews delivered by `applyOutputs` as the engine's finaliser does.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { applyOutputs } from "../../src/github/outputs/apply-outputs.ts";
import { createGitHubRunOutputs } from "../../src/github/outputs/github-run-outputs.ts";
import { createMetrics, type Metrics } from "../../src/observability/metrics.ts";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import type { RunStore } from "../../src/workflows/ports.ts";
import type { Finding, StepRecord } from "../../src/workflows/types.ts";
import { installRepoModel, type ModelPull, type PullFile, type RepoModel } from "../fakes/github-repo-model.ts";
import { GRAPHQL_PATH } from "../fakes/github-graphql.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { fileDiff } from "../fakes/unified-diff.ts";
import { runRecord, silentLog, step, testOctokit, trigger } from "./support.ts";

const BASE = Array.from({ length: 12 }, (_, i) => `const v${i + 1} = ${i + 1};`);
/** The file with some lines replaced (1-based line → text). */
const withLines = (lines: Record<number, string>, from = BASE) => `${from.map((l, i) => lines[i + 1] ?? l).join("\n")}\n`;
const REVIEWS = "/repos/{owner}/{repo}/pulls/{pull_number}/reviews";

let gh: GitHubFake;
let model: RepoModel;
let store: RunStore;
let metrics: Metrics;
let pull: ModelPull;

function pullFiles(from: string, to: string): PullFile[] {
  const before = model.filesAt(from);
  const after = model.filesAt(to);
  return [...new Set([...before.keys(), ...after.keys()])]
    .filter((p) => before.get(p) !== after.get(p))
    .map((filename) => {
      const d = fileDiff(before.get(filename), after.get(filename));
      return { filename, status: before.has(filename) ? "modified" : "added", additions: d.additions, deletions: d.deletions, patch: d.patch };
    });
}

/** Pushes a new version of `src/x.ts` to the pull request's branch; returns the new head SHA. */
function push(lines: Record<number, string>): string {
  const head = model.commitFiles("feature", { "src/x.ts": withLines(lines) });
  pull.head.sha = head;
  pull.files = pullFiles(pull.base.sha, head);
  return head;
}

/** A review run on the current head (a push review when `sinceSha` is given), delivered like the engine does. */
async function review(id: string, findings: Finding[], sinceSha?: string) {
  const s = step("review", "review", "review");
  const t = trigger({
    kind: "pull_request",
    number: 12,
    isPullRequest: true,
    pullRequest: { headSha: pull.head.sha, baseSha: pull.base.sha, headRef: "feature", baseRef: "main", fromFork: false, draft: false, ...(sinceSha ? { sinceSha } : {}) },
  });
  const run = runRecord(id, [s], t, { status: "succeeded" });
  const records: StepRecord[] = [{ runId: run.id, stepId: s.id, status: "succeeded", attempts: 1, output: { text: "", usage: { inputTokens: 1, outputTokens: 1, cachedTokens: 0 }, costUsd: 0, findings } }];
  return (await applyOutputs({ octokit: testOctokit(gh.url), store, log: silentLog, metrics }, run, records)).review;
}

const finding = (line: number, body: string, extra: Partial<Finding> = {}): Finding => ({ path: "src/x.ts", line, side: "RIGHT", severity: "major", body, ...extra });
const counted = async () => Object.fromEntries((await metrics.findings.get()).values.map((v) => [String(v.labels.outcome), v.value]));
const graphqlCalls = (kind: "query" | "mutation") => gh.find("POST", GRAPHQL_PATH).filter((r) => String((r.body as { query: string }).query).trimStart().startsWith(kind));
const threadOf = (body: string) => model.reviewThreads.state.threads.find((t) => model.reviewThreads.state.comments.get(t.commentIds[0] ?? -1)?.body.includes(body));

beforeEach(async () => {
  gh = await startGitHubFake();
  model = installRepoModel(gh, { owner: "octo", repo: "app", files: { "src/x.ts": withLines({}) } });
  store = createMemoryRunStore();
  metrics = createMetrics({ defaults: false });
  const base = model.state.refs.get("heads/main") ?? "";
  pull = model.addPull({ number: 12, title: "PR", body: "", draft: false, head: { ref: "feature", sha: base, repoFullName: "octo/app" }, base: { ref: "main", sha: base }, files: [] });
});
afterEach(async () => {
  await gh.close();
  await store.close();
});

describe("a review of a push", () => {
  it("comments inline only on lines the push changed; a finding on an older line of the PR diff goes to the body, once", async () => {
    const c1 = push({ 3: "const old = legacy();", 5: "const risky = run(input);" });
    await review("rev-1", [finding(5, "risky call")]);
    expect(model.state.reviews[0]?.comments).toHaveLength(1);

    // the push changes line 9 only; the model now also notices something on line 3, which the PR changed earlier
    push({ 3: "const old = legacy();", 5: "const risky = run(input);", 9: "const fresh = compute();" });
    const second = await review("rev-2", [finding(5, "risky call"), finding(3, "legacy() is deprecated"), finding(9, "compute() can throw")], c1);
    expect(second).toMatchObject({ posted: 2, inline: 1, repeated: 1 });
    const posted = model.state.reviews[1];
    expect(posted?.comments.map((c) => [c.line, c.side])).toEqual([[9, "RIGHT"]]);
    expect(posted?.body).toContain("**Not on lines this push changed:**");
    expect(posted?.body).toMatch(/`src\/x\.ts:3` \*\*🟠 major\*\* legacy\(\) is deprecated <!-- octoflow:fp:[0-9a-f]{16} -->/);
    expect(gh.find("GET", "/repos/{owner}/{repo}/compare/{basehead}").map((r) => r.path)).toEqual([`/repos/octo/app/compare/${c1}...${pull.head.sha}`]);

    // the same findings on the next push: none is said again, inline or in the body
    const c2 = pull.head.sha;
    push({ 3: "const old = legacy();", 5: "const risky = run(input);", 9: "const fresh = compute();", 11: "const more = 1;" });
    expect(await review("rev-3", [finding(3, "legacy() is deprecated"), finding(9, "compute() can throw")], c2)).toMatchObject({ posted: 0, repeated: 2 });
    expect(model.state.reviews).toHaveLength(2);
    expect(await counted()).toEqual({ raised: 3, repeated_suppressed: 3 });
    gh.verify();
  });

  it("falls back to the whole diff when the last reviewed SHA is gone (force-push)", async () => {
    push({ 3: "const old = legacy();" });
    const result = await review("rev-f", [finding(3, "legacy() is deprecated")], "0".repeat(40));
    expect(result).toMatchObject({ posted: 1, inline: 1 });
    gh.verify();
  });
});

describe("a push that fixes a finding", () => {
  it("resolves the finding's thread over GraphQL, once; a finding raised again or on untouched lines stays open", async () => {
    const c1 = push({ 3: "const old = legacy();", 5: "const risky = run(input);", 9: "const slow = loop();" });
    await review("rev-1", [finding(3, "legacy() is deprecated"), finding(5, "risky call"), finding(9, "slow loop")]);
    expect(model.reviewThreads.state.threads).toHaveLength(3);

    // line 3 rewritten, line 5 untouched; the model still reports line 5
    const c2 = push({ 3: "const old = modern();", 5: "const risky = run(input);", 9: "const slow = loop();" });
    await review("rev-2", [finding(5, "risky call")], c1);
    expect(threadOf("legacy() is deprecated")?.isResolved).toBe(true);
    expect(threadOf("risky call")?.isResolved).toBe(false);
    expect(threadOf("slow loop")?.isResolved).toBe(false);
    expect(await store.getMarker(`fp-fixed:octo/app#12:${/octoflow:fp:(\w+)/.exec(model.state.reviews[0]?.comments[0]?.body as string)?.[1]}`)).toBe(c2);
    expect(graphqlCalls("mutation")).toHaveLength(1);
    expect((graphqlCalls("mutation")[0]?.body as { variables: unknown }).variables).toEqual({ threadId: threadOf("legacy() is deprecated")?.id });

    // the same push delivered again (a retried run): nothing resolved twice
    await review("rev-2b", [finding(5, "risky call")], c1);
    // two pushes later: line 9 (posted on c1, not on the last reviewed SHA) fixed — matched by its text
    const c3 = push({ 3: "const old = modern();", 5: "const risky = run(input);", 9: "const slow = loop();", 11: "const w = 1;" });
    await review("rev-3", [finding(5, "risky call")], c2);
    expect(threadOf("slow loop")?.isResolved).toBe(false);
    push({ 3: "const old = modern();", 5: "const risky = run(input);", 9: "const quick = once();", 11: "const w = 1;" });
    await review("rev-4", [finding(5, "risky call")], c3);
    expect(threadOf("slow loop")?.isResolved).toBe(true);
    expect(threadOf("risky call")?.isResolved).toBe(false);
    expect(graphqlCalls("mutation")).toHaveLength(2);
    expect(model.reviewThreads.state.comments.size).toBe(3); // no replies: GraphQL worked
    expect((await counted()).resolved).toBe(2);
    gh.verify();
  });

  it.each([
    ["GraphQL answers 404", () => gh.fault("POST", GRAPHQL_PATH, { kind: "status", status: 404, body: { message: "Not Found" } })],
    ["the installation may not read threads over GraphQL", () => model.reviewThreads.state.forbidden.add("repository")],
    ["the installation may not resolve threads", () => model.reviewThreads.state.forbidden.add("resolveReviewThread")],
  ])("replies “Fixed in <sha>.” in the thread, once, when %s", async (_name, breakGraphql) => {
    const c1 = push({ 3: "const old = legacy();", 5: "const risky = run(input);" });
    await review("rev-1", [finding(3, "legacy() is deprecated"), finding(5, "risky call")]);
    breakGraphql();
    const c2 = push({ 3: "const old = modern();", 5: "const risky = run(input);" });
    await review("rev-2", [], c1);
    await review("rev-2b", [], c1);
    const fixed = threadOf("legacy() is deprecated");
    expect(fixed?.isResolved).toBe(false);
    const replies = model.reviewThreads.repliesTo(fixed?.commentIds[0] ?? -1);
    expect(replies.map((r) => r.body)).toEqual([`Fixed in ${c2}.`]);
    expect(model.reviewThreads.repliesTo(threadOf("risky call")?.commentIds[0] ?? -1)).toEqual([]);
    expect((await counted()).resolved).toBe(1);
    gh.verify();
  });
});

describe("a finding a person dismissed", () => {
  it("is not raised again on that line after a 👎 or a resolve by a person, however it is worded; an app's 👎 counts for nothing", async () => {
    const c1 = push({ 3: "const old = legacy();", 5: "const risky = run(input);", 7: "const cache = new Map();" });
    await review("rev-1", [finding(3, "legacy() is deprecated"), finding(5, "risky call"), finding(7, "unbounded cache")]);
    const [t3, t5, t7] = [threadOf("legacy()"), threadOf("risky call"), threadOf("unbounded cache")];
    model.reviewThreads.react(t3?.commentIds[0] ?? -1, "-1", "alice");
    model.reviewThreads.resolve(t5?.id ?? "", "bob");
    model.reviewThreads.react(t7?.commentIds[0] ?? -1, "-1", "other-app[bot]");

    // a push elsewhere; the model says the same things in other words, and one new thing
    const c2 = push({ 3: "const old = legacy();", 5: "const risky = run(input);", 7: "const cache = new Map();", 10: "const n = parse(x);" });
    const second = await review("rev-2", [finding(3, "Do not call legacy()"), finding(5, "run() is risky here"), finding(7, "cache grows forever"), finding(10, "parse can fail")], c1);
    expect(second).toMatchObject({ posted: 2, repeated: 2 });
    const posted = model.state.reviews[1];
    expect(posted?.body).toContain("cache grows forever"); // line 7: not changed by this push, so in the body
    expect(posted?.comments.map((c) => c.line)).toEqual([10]);
    expect(JSON.stringify(posted)).not.toMatch(/legacy\(\)|run\(\) is risky/);
    expect(gh.find("GET", "/repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions").every((r) => r.query.get("content") === "-1")).toBe(true);

    // once the line itself changes, it is a new line: findings on it are raised again
    push({ 3: "const old = legacy(true);", 5: "const risky = run(input);", 7: "const cache = new Map();", 10: "const n = parse(x);" });
    const third = await review("rev-3", [finding(3, "Do not call legacy()"), finding(5, "run() is risky here")], c2);
    expect(third).toMatchObject({ posted: 1, inline: 1, repeated: 1 });
    // the 👎'd finding's line was rewritten: its thread is resolved like any fixed finding's
    expect(t3?.isResolved).toBe(true);
    expect(await counted()).toEqual({ raised: 6, repeated_suppressed: 3, resolved: 1 });
    gh.verify();
  });

  it("counts through the GitHub RunOutputs adapter it is given the metrics by", async () => {
    push({ 3: "const old = legacy();" });
    const outputs = createGitHubRunOutputs({ clients: { forInstallation: () => Promise.resolve(testOctokit(gh.url)) }, store, log: silentLog, metrics });
    const s = step("review", "review", "review");
    const run = runRecord("rev-o", [s], trigger({ kind: "pull_request", number: 12, isPullRequest: true, pullRequest: { headSha: pull.head.sha, baseSha: pull.base.sha, headRef: "feature", baseRef: "main", fromFork: false, draft: false } }), { status: "succeeded" });
    await outputs.deliver(run, [{ runId: run.id, stepId: s.id, status: "succeeded", attempts: 1, output: { text: "", usage: { inputTokens: 1, outputTokens: 1, cachedTokens: 0 }, costUsd: 0, findings: [finding(3, "legacy")] } }]);
    expect(await counted()).toEqual({ raised: 1 });
    expect(await metrics.registry.metrics()).toContain('octoflow_findings_total{outcome="raised"} 1');
    expect(gh.find("POST", REVIEWS)).toHaveLength(1);
    gh.verify();
  });
});

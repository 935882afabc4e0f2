import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { atLeast, createPermissionGate, isBot, levelOf } from "../../src/github/permission-gate.ts";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import { installRepoModel } from "../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { createFakeClock } from "../fakes/fake-clock.ts";
import { testOctokit } from "./support.ts";

let gh: GitHubFake;
beforeEach(async () => {
  gh = await startGitHubFake();
  installRepoModel(gh, { owner: "octo", repo: "app", permissions: { wendy: "write", max: "maintain", tom: "triage", ada: "admin" } });
});
afterEach(async () => {
  await gh.close();
});

const repo = { owner: "octo", name: "app", defaultBranch: "main" };
const trust = (minPermission: "write" | "maintain" | "admin", allowBots: string[] = []) => ({ minPermission, allowBots });

describe("permission gate", () => {
  it("orders GitHub's permissions and roles", () => {
    expect(levelOf({ permission: "write", role_name: "maintain" })).toBe("maintain");
    expect(levelOf({ permission: "read", role_name: "custom-role" })).toBe("read");
    expect(levelOf({})).toBe("none");
    expect(atLeast("maintain", "write")).toBe(true);
    expect(atLeast("triage", "write")).toBe(false);
    expect(isBot({ login: "x[bot]", type: "User" })).toBe(true);
  });

  it("allows at or above the minimum, caches lookups, refuses others once per issue", async () => {
    const clock = createFakeClock({ mode: "manual" });
    const store = createMemoryRunStore();
    const gate = createPermissionGate({ store, clock, ttlMs: 60_000 });
    const octokit = testOctokit(gh.url);
    const check = (login: string, min: "write" | "maintain" | "admin") => gate.check(octokit, repo, { login, type: "User" }, trust(min));
    expect(await check("wendy", "write")).toMatchObject({ allowed: true, permission: "write" });
    expect(await check("max", "write")).toMatchObject({ allowed: true, permission: "maintain" });
    expect(await check("wendy", "maintain")).toMatchObject({ allowed: false, reason: "permission", required: "maintain" });
    expect(await check("tom", "write")).toMatchObject({ allowed: false, permission: "triage" });
    expect(await check("ada", "admin")).toMatchObject({ allowed: true });
    expect(gh.find("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission")).toHaveLength(4);
    await clock.advance(60_001);
    await check("wendy", "write");
    expect(gh.find("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission")).toHaveLength(5);

    const refused = await check("tom", "write");
    expect(await gate.refuseOnce(octokit, repo, 5, { login: "tom", type: "User" }, refused)).toBe(true);
    expect(await gate.refuseOnce(octokit, repo, 5, { login: "tom", type: "User" }, refused)).toBe(false);
    expect(await gate.refuseOnce(octokit, repo, 6, { login: "tom", type: "User" }, refused)).toBe(true);
    expect(gh.find("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments")).toHaveLength(2);
    gh.verify();
  });

  it("ignores bots unless allow-listed, without a lookup or a reply", async () => {
    const gate = createPermissionGate({ store: createMemoryRunStore(), clock: createFakeClock({ mode: "manual" }) });
    const octokit = testOctokit(gh.url);
    const bot = { login: "renovate[bot]", type: "Bot" };
    const denied = await gate.check(octokit, repo, bot, trust("write"));
    expect(denied).toEqual({ allowed: false, reason: "bot" });
    expect(await gate.refuseOnce(octokit, repo, 1, bot, denied)).toBe(false);
    expect(await gate.check(octokit, repo, bot, trust("write", ["Renovate[bot]"]))).toEqual({ allowed: true, permission: "bot" });
    expect(gh.requests).toHaveLength(0);
  });
});

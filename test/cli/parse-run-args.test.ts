import { describe, expect, it } from "vitest";
import { parseRunArgs, resolveToken, RUN_USAGE } from "../../src/cli/parse-run-args.ts";
import { UsageError } from "../../src/errors/usage-error.ts";

const usageError = (args: string[]): UsageError => {
  try {
    parseRunArgs(args);
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error(`parseRunArgs accepted ${JSON.stringify(args)}`);
};

describe("parseRunArgs", () => {
  it("parses a full command line", () => {
    expect(
      parseRunArgs(["bug-fix", "--repo", "acme/api.js", "--issue", "12", "--input", "scope=auth=v2", "--input", "tone=", "--model", "anthropic:claude-sonnet-4-5", "--dry-run"]),
    ).toEqual({
      workflow: "bug-fix",
      owner: "acme",
      repo: "api.js",
      number: 12,
      isPullRequest: false,
      inputs: { scope: "auth=v2", tone: "" },
      model: "anthropic:claude-sonnet-4-5",
      dryRun: true,
      replace: false,
      progress: "auto",
      approve: false,
    });
  });

  it("parses --approve and --checkout", () => {
    expect(parseRunArgs(["bug-fix", "--repo", "o/r", "--issue", "1", "--approve", "--checkout", "../api"])).toMatchObject({ approve: true, checkout: "../api" });
    expect(parseRunArgs(["bug-fix", "--repo", "o/r", "--issue", "1"]).checkout).toBeUndefined();
  });

  it("parses --pr, --replace and --progress", () => {
    const args = parseRunArgs(["--pr", "7", "code-review", "--repo", "o/r", "--replace", "--progress", "plain"]);
    expect(args).toMatchObject({ workflow: "code-review", number: 7, isPullRequest: true, dryRun: false, replace: true, progress: "plain" });
    expect(args.model).toBeUndefined();
  });

  it.each([
    [["--repo", "o/r", "--issue", "1"], "missing <workflow>"],
    [["a", "b", "--repo", "o/r", "--issue", "1"], 'unexpected argument "b"'],
    [["wf", "--issue", "1"], "missing --repo"],
    [["wf", "--repo", "acme", "--issue", "1"], "--repo must be owner/name"],
    [["wf", "--repo", "acme/api/x", "--issue", "1"], "--repo must be owner/name"],
    [["wf", "--repo=-acme/api", "--issue", "1"], "--repo must be owner/name"],
    [["wf", "--repo", "acme/..", "--issue", "1"], "--repo must be owner/name"],
    [["wf", "--repo", "o/r"], "missing --issue N or --pr N"],
    [["wf", "--repo", "o/r", "--issue", "1", "--pr", "2"], "give --issue or --pr, not both"],
    [["wf", "--repo", "o/r", "--issue", "0"], "--issue must be a positive number"],
    [["wf", "--repo", "o/r", "--pr", "1e3"], "--pr must be a positive number"],
    [["wf", "--repo", "o/r", "--issue", "1", "--input", "novalue"], "--input must be key=value"],
    [["wf", "--repo", "o/r", "--issue", "1", "--input", "=x"], "--input must be key=value"],
    [["wf", "--repo", "o/r", "--issue", "1", "--model", "gpt-4"], "--model must be <provider>:<model>"],
    [["wf", "--repo", "o/r", "--issue", "1", "--bogus"], "Unknown option '--bogus'"],
    [["../etc", "--repo", "o/r", "--issue", "1"], "is not a workflow name"],
    [["wf", "--repo", "o/r", "--issue", "1", "--progress", "fancy"], "--progress must be auto, table or plain"],
  ])("refuses %j with a usage error", (args, message) => {
    const error = usageError(args);
    expect(error.message).toContain(message);
    expect(error.usage).toBe(RUN_USAGE);
  });
});

describe("resolveToken", () => {
  it("prefers GITHUB_TOKEN, falls back to GH_TOKEN, refuses neither", () => {
    expect(resolveToken({ GITHUB_TOKEN: "a", GH_TOKEN: "b" }, RUN_USAGE)).toBe("a");
    expect(resolveToken({ GITHUB_TOKEN: " ", GH_TOKEN: "b" }, RUN_USAGE)).toBe("b");
    expect(() => resolveToken({}, RUN_USAGE)).toThrow(UsageError);
  });
});

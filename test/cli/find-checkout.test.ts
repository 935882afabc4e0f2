/** Where the CLI finds the checkout for command steps. */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { findCheckout, remoteNames } from "../../src/cli/find-checkout.ts";

let dir: string;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), "octoflow-find-checkout-")));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("findCheckout", () => {
  it("matches remote URLs by owner/name, never by a suffix of another name", () => {
    expect(remoteNames("https://github.com/acme/api.git", "acme", "api")).toBe(true);
    expect(remoteNames("git@github.com:Acme/API", "acme", "api")).toBe(true);
    expect(remoteNames("ssh://git@ghe.example.com/acme/api/", "acme", "api")).toBe(true);
    expect(remoteNames("https://github.com/notacme/api.git", "acme", "api")).toBe(false);
    expect(remoteNames("https://github.com/acme/api-docs.git", "acme", "api")).toBe(false);
  });

  it("uses the clone around the working directory only when a remote names the repository; --checkout is taken as given", async () => {
    const clone = join(dir, "api");
    execFileSync("git", ["init", "-q", clone]);
    mkdirSync(join(clone, "src"));
    expect(await findCheckout({ dir: join(clone, "src"), owner: "acme", name: "api", explicit: false })).toEqual({ dir: undefined, missing: expect.stringContaining("is not a clone of acme/api (no remote names it)") });
    expect(await findCheckout({ dir: join(clone, "src"), owner: "acme", name: "api", explicit: true })).toEqual({ dir: clone });
    execFileSync("git", ["-C", clone, "remote", "add", "origin", "git@github.com:acme/api.git"]);
    expect(await findCheckout({ dir: join(clone, "src"), owner: "acme", name: "api", explicit: false })).toEqual({ dir: clone });
    expect(await findCheckout({ dir, owner: "acme", name: "api", explicit: true, what: "GITHUB_WORKSPACE" })).toEqual({ dir: undefined, missing: "GITHUB_WORKSPACE is not a Git checkout of acme/api" });
  });
});

import { readFileSync } from "node:fs";
import type { Probot } from "probot";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { HANDLED_EVENTS, RECEIVED_EVENTS, registerHandlers } from "../../src/github/register-handlers.ts";
import type { HandlerDeps } from "../../src/github/start-run.ts";

/** What registerHandlers subscribes, read through the one Probot method it calls. */
function registrations(): string[][] {
  const calls: string[][] = [];
  const app = { on: (name: string | string[]) => void calls.push(Array.isArray(name) ? name : [name]) };
  registerHandlers(app as unknown as Probot, {} as HandlerDeps);
  return calls;
}

describe("registerHandlers", () => {
  it("subscribes exactly HANDLED_EVENTS (each named once there; a key may have several handlers)", () => {
    const subscribed = registrations().flat();
    expect([...new Set(subscribed)].sort()).toEqual([...HANDLED_EVENTS].sort());
    expect(new Set(HANDLED_EVENTS).size).toBe(HANDLED_EVENTS.length);
  });

  it("handles the four reviewable pull_request actions with one handler (one app.on with a list)", () => {
    const lists = registrations().filter((names) => names.length > 1);
    expect(lists).toEqual([
      ["pull_request.opened", "pull_request.reopened", "pull_request.synchronize", "pull_request.ready_for_review"],
      ["check_suite.completed", "check_run.completed", "status"],
    ]);
  });

  it("app.yml subscribes to exactly the events a handler acts on (nothing it ignores)", () => {
    const manifest = parse(readFileSync(new URL("../../app.yml", import.meta.url), "utf8")) as { default_events: string[] };
    const handled = [...new Set(HANDLED_EVENTS.map((key) => key.split(".")[0]))];
    expect([...manifest.default_events].sort()).toEqual(handled.sort());
    expect([...RECEIVED_EVENTS].sort()).toEqual([...handled, "installation"].sort());
  });
});

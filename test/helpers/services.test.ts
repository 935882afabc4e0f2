/** The service probes' switch: what OCTOFLOW_REQUIRE_SERVICES turns from a skip into a failure. */
import { afterEach, describe, expect, it, vi } from "vitest";
import { requiredServices, skipNote, skips, type Service } from "./services.ts";

const missing: Service = { name: "chromium", value: undefined, missing: "no Chromium or Chrome found (set CHROMIUM_PATH to one)", needs: "browser tests" };
const found: Service = { name: "postgres", value: "postgres://x", missing: undefined, needs: "database tests" };

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("OCTOFLOW_REQUIRE_SERVICES", () => {
  it("is empty when unset or 0, every service for 1 / all, and a list otherwise", () => {
    expect([...requiredServices({})]).toEqual([]);
    expect([...requiredServices({ OCTOFLOW_REQUIRE_SERVICES: "0" })]).toEqual([]);
    expect([...requiredServices({ OCTOFLOW_REQUIRE_SERVICES: "1" })].sort()).toEqual(["chromium", "kubectl", "postgres", "promtool"]);
    expect([...requiredServices({ OCTOFLOW_REQUIRE_SERVICES: " postgres, chromium " })].sort()).toEqual(["chromium", "postgres"]);
  });

  it("refuses an unknown service name instead of ignoring it", () => {
    expect(() => requiredServices({ OCTOFLOW_REQUIRE_SERVICES: "postgres,chrome" })).toThrow(/unknown service chrome/);
  });

  it("skips a missing service with its reason, unless it is required; never skips a found one", () => {
    vi.stubEnv("OCTOFLOW_REQUIRE_SERVICES", "");
    expect(skips(missing)).toBe(true);
    expect(skipNote(missing)).toBe(" (skipped: no Chromium or Chrome found (set CHROMIUM_PATH to one))");
    expect(skips(found)).toBe(false);
    expect(skipNote(found)).toBe("");
    vi.stubEnv("OCTOFLOW_REQUIRE_SERVICES", "chromium");
    expect(skips(missing)).toBe(false);
  });
});

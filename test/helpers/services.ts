/**
 * The outside services some tests need (PostgreSQL, a Chromium, promtool, kubectl): found or not,
 * and why not. Tests that need a missing service are skipped, and `test/helpers/global-setup.ts`
 * prints one line per missing service, so `npm test` passes on a fresh machine and says what it
 * did not run. `OCTOFLOW_REQUIRE_SERVICES=1` (all) or a list (`postgres,chromium`) turns those
 * skips into failures: `.ci/run` sets it, so CI runs every test.
 *
 * @example
 * const chromium = service("chromium");
 * describe.skipIf(skips(chromium))(`dashboard in Chromium${skipNote(chromium)}`, () => { … });
 */
import { execFileSync } from "node:child_process";
import { accessSync, constants } from "node:fs";

export type ServiceName = "postgres" | "chromium" | "promtool" | "kubectl";

export interface Service {
  name: ServiceName;
  /** What the tests use: a database URL, an executable path; undefined when missing. */
  value: string | undefined;
  /** Why it is missing and how to provide it; undefined when found. */
  missing: string | undefined;
  /** How many tests are affected, in words (for the skip line). */
  needs: string;
}

const CHROMIUM_CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable", "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function runs(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: "ignore", timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

function probe(name: ServiceName): Service {
  switch (name) {
    case "postgres": {
      const url = process.env.OCTOFLOW_TEST_DATABASE_URL;
      return { name, value: url, needs: "the PostgreSQL store, queue, rate limiter and multi-replica tests", missing: url ? undefined : "OCTOFLOW_TEST_DATABASE_URL is not set (.ci/run starts a throw-away cluster; see docs/scaling.md)" };
    }
    case "chromium": {
      const configured = process.env.CHROMIUM_PATH;
      if (configured) {
        return { name, value: executable(configured) ? configured : undefined, needs: "the dashboard tests in a headless browser", missing: executable(configured) ? undefined : `CHROMIUM_PATH=${configured} is not an executable file` };
      }
      const found = CHROMIUM_CANDIDATES.find(executable);
      return { name, value: found, needs: "the dashboard tests in a headless browser", missing: found ? undefined : "no Chromium or Chrome found (set CHROMIUM_PATH to one)" };
    }
    case "promtool": {
      const found = runs("promtool", ["--version"]);
      return { name, value: found ? "promtool" : undefined, needs: "the Prometheus rule and config checks", missing: found ? undefined : "promtool is not on PATH (Debian: apt-get install prometheus)" };
    }
    case "kubectl": {
      const found = runs("kubectl", ["version", "--client"]);
      return { name, value: found ? "kubectl" : undefined, needs: "the kustomize build of deploy/kubernetes", missing: found ? undefined : "kubectl is not on PATH" };
    }
  }
}

const cache = new Map<ServiceName, Service>();

/** The service, probed once per process. */
export function service(name: ServiceName): Service {
  let found = cache.get(name);
  if (!found) {
    found = probe(name);
    cache.set(name, found);
  }
  return found;
}

export const SERVICE_NAMES: readonly ServiceName[] = ["postgres", "chromium", "promtool", "kubectl"];

/** The services `OCTOFLOW_REQUIRE_SERVICES` asks for: `1`/`all` → every one, else a comma list. */
export function requiredServices(env: NodeJS.ProcessEnv = process.env): Set<ServiceName> {
  const raw = (env.OCTOFLOW_REQUIRE_SERVICES ?? "").trim();
  if (raw === "" || raw === "0" || raw === "false") return new Set();
  if (raw === "1" || raw === "true" || raw === "all") return new Set(SERVICE_NAMES);
  const names = raw.split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(SERVICE_NAMES as readonly string[]).includes(n));
  if (unknown.length > 0) throw new Error(`OCTOFLOW_REQUIRE_SERVICES: unknown service ${unknown.join(", ")} (known: ${SERVICE_NAMES.join(", ")}, or 1 for all)`);
  return new Set(names as ServiceName[]);
}

/**
 * True when the tests of this service should be skipped: it is missing and not required. A
 * required service that is missing is not skipped, so its tests run and fail.
 */
export function skips(s: Service): boolean {
  return s.missing !== undefined && !requiredServices().has(s.name);
}

/** A suffix for a skipped suite's title: ` (skipped: <reason>)`, or "" when it runs. */
export function skipNote(s: Service): string {
  return skips(s) ? ` (skipped: ${s.missing})` : "";
}

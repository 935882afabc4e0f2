/**
 * action.yml and the documented example workflows (docs/action.md, the README's quick start): the composite action sets up Node 24, installs
 * the package and runs `octoflow action`; every input reaches the CLI through the environment under
 * the name the app's env schema reads; no input is interpolated into a script; the examples only
 * use inputs the action declares.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { envSchema } from "../../src/config/env.ts";
import { ROOT } from "./helpers/spawn-cli.ts";

interface Step {
  uses?: string;
  with?: Record<string, unknown>;
  run?: string;
  shell?: string;
  env?: Record<string, string>;
  "working-directory"?: string;
}
interface ActionYml {
  name: string;
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  runs: { using: string; steps: Step[] };
}

const action = parse(readFileSync(`${ROOT}action.yml`, "utf8")) as ActionYml;
const CLI_ONLY = new Set(["GITHUB_TOKEN", "OCTOFLOW_WORKFLOW", "OCTOFLOW_INPUTS"]);

describe("action.yml", () => {
  it("is a composite action that sets up Node 24, runs npm ci in the action's directory and the CLI's action mode", () => {
    expect(action.runs.using).toBe("composite");
    const [setup, install, run] = action.runs.steps;
    expect(setup).toMatchObject({ uses: "actions/setup-node@v4", with: { "node-version": 24 } });
    expect(install?.["working-directory"]).toBe("${{ github.action_path }}");
    expect(install?.run).toMatch(/^npm ci\b/);
    expect(run?.run).toBe('node "$GITHUB_ACTION_PATH/bin/octoflow.js" action');
    for (const step of [install, run]) expect(step?.shell).toBe("bash");
  });

  it("passes every input through the environment, never into a script", () => {
    const run = action.runs.steps[2];
    const env = run?.env ?? {};
    const passed = new Map(Object.entries(env).map(([key, value]) => [/^\$\{\{ inputs\.([a-z-]+) \}\}$/.exec(value)?.[1], key]));
    for (const input of Object.keys(action.inputs)) expect(passed.has(input), input).toBe(true);
    for (const [key] of Object.entries(env)) {
      if (!CLI_ONLY.has(key)) expect(Object.keys(envSchema.shape), key).toContain(key);
    }
    for (const step of action.runs.steps) expect(step.run ?? "").not.toContain("${{");
    expect(action.inputs["github-token"]?.default).toBe("${{ github.token }}");
  });
});

describe.each(["docs/action.md", "README.md"])("%s example workflows", (file) => {
  const doc = readFileSync(`${ROOT}${file}`, "utf8");
  // the Actions workflow examples: YAML blocks with jobs (the docs also show templates and config)
  const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((m) => m[1] ?? "")
    .filter((text) => /^jobs:/m.test(text))
    .map((text) => parse(text) as { on: unknown; jobs: Record<string, { steps: Step[] }> });

  it("parse and use the action only with inputs it declares", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(file === "README.md" ? 1 : 2);
    for (const workflow of blocks) {
      expect(workflow.on).toBeDefined();
      const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);
      const uses = steps.filter((s) => s.uses?.includes("/octoflow@"));
      expect(uses).toHaveLength(1);
      for (const key of Object.keys(uses[0]?.with ?? {})) expect(Object.keys(action.inputs)).toContain(key);
    }
  });
});

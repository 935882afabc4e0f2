import { describe, expect, it } from "vitest";
import { COMMANDS, main } from "../../src/cli/main.ts";
import { recordingIo } from "./helpers/recording-io.ts";

describe("octoflow commands", () => {
  it("registers run, replay, runs and action, each with a usage line", async () => {
    for (const name of ["run", "replay", "runs", "action"]) {
      const load = COMMANDS[name];
      expect(load, name).toBeDefined();
      const command = await load?.();
      expect(command?.usage).toMatch(new RegExp(`^usage: octoflow ${name}\\b`));
      const io = recordingIo({}, process.cwd());
      expect(await main([name, "--help"], io)).toBe(0);
      // --help is the long form: every option of the usage line, and the environment it reads
      const help = io.out();
      expect(help).toMatch(new RegExp(`^Usage: octoflow ${name}\\b`));
      for (const option of command?.usage.match(/--[a-z-]+/g) ?? []) expect(help, `${name} --help names ${option}`).toContain(option);
      expect(help).toMatch(/^Environment\b/m);
      expect(help).toMatch(/^Options:/m);
    }
    const run = recordingIo({}, process.cwd());
    await main(["run", "--help"], run);
    for (const variable of ["GITHUB_TOKEN", "GH_TOKEN", "OCTOFLOW_MODEL", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "DATABASE_URL", "GITHUB_API_URL"]) expect(run.out()).toContain(variable);
    const io = recordingIo({}, process.cwd());
    await main(["--help"], io);
    expect(io.out()).toMatch(/^ {2}run\s+Run a workflow on an issue or pull request/m);
    expect(io.out()).toMatch(/^ {2}replay\s+Show what the app would do with a saved webhook payload/m);
  });
});

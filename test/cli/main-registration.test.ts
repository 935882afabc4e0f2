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
      expect(io.out()).toBe(`${command?.usage}\n`);
    }
    const io = recordingIo({}, process.cwd());
    await main(["--help"], io);
    expect(io.out()).toMatch(/^ {2}run\s+Run a workflow on an issue or pull request/m);
    expect(io.out()).toMatch(/^ {2}replay\s+Show what the app would do with a saved webhook payload/m);
  });
});

/**
 * `octoflow <command> [args]` — the command-line entry point. Commands live in
 * `src/cli/commands/<name>.ts` and are registered in `COMMANDS` below (loaded lazily, so a command's
 * dependencies cost nothing for the others).
 */
import { pathToFileURL } from "node:url";
import { processIo, type CliCommand, type CliIo } from "./cli-io.ts";
import { COMMAND_HELP } from "./command-help.ts";

/** Registered commands. Add a line per command. */
export const COMMANDS: Record<string, () => Promise<CliCommand>> = {
  validate: async () => (await import("./commands/validate.ts")).validateCommand,
  run: async () => (await import("./commands/run.ts")).runCommand,
  runs: async () => (await import("./commands/runs.ts")).runsCommand,
  replay: async () => (await import("./commands/replay.ts")).replayCommand,
  action: async () => (await import("./commands/action.ts")).actionCommand,
};

function help(io: CliIo, commands: Record<string, CliCommand>): void {
  const lines = ["Usage: octoflow <command> [options]", "", "Commands:"];
  for (const [name, command] of Object.entries(commands)) lines.push(`  ${name.padEnd(12)} ${command.summary}`);
  lines.push("", "Run `octoflow <command> --help` for a command's options.");
  io.stdout(`${lines.join("\n")}\n`);
}

/**
 * Runs the CLI with `argv` (without `node` and the script) and returns the exit code.
 *
 * @example
 * process.exitCode = await main(["validate", "workflows/bug-fix.yml"]);
 */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    const loaded = Object.fromEntries(await Promise.all(Object.entries(COMMANDS).map(async ([n, load]) => [n, await load()] as const)));
    help(io, loaded);
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-v") {
    const { createRequire } = await import("node:module");
    const pkg = createRequire(import.meta.url)("../../package.json") as { version: string };
    io.stdout(`${pkg.version}\n`);
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    io.stderr(`octoflow: unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(", ")})\n`);
    return 2;
  }
  const command = await load();
  if (args.includes("--help") || args.includes("-h")) {
    io.stdout(`${COMMAND_HELP[name] ?? command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    io.stderr(`octoflow ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.exitCode = await main(process.argv.slice(2));
}

/**
 * Runs the real CLI (`node bin/octoflow.js …`) as a child process, asynchronously, so fakes served
 * by the test process keep answering while it runs.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
export const BIN = `${ROOT}bin/octoflow.js`;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface StartedCli {
  child: ChildProcess;
  /** Resolves when the process exits. */
  done: Promise<CliResult>;
}

/** Starts the CLI with only `env` (plus PATH) in its environment; kills it after `timeoutMs`. */
export function startCli(args: string[], options: { env: Record<string, string>; cwd: string; timeoutMs?: number }): StartedCli {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: { PATH: process.env.PATH ?? "", ...options.env } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
  const done = new Promise<CliResult>((resolve) =>
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
  return { child, done };
}

/** Runs the CLI to completion. */
export async function spawnCli(args: string[], options: { env: Record<string, string>; cwd: string; timeoutMs?: number }): Promise<CliResult> {
  return startCli(args, options).done;
}

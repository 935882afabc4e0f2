/**
 * Runs the real CLI (`node bin/octoflow.js …`) as a child process, asynchronously, so fakes served
 * by the test process keep answering while it runs.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
export const BIN = `${ROOT}bin/octoflow.js`;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Spawns the CLI with only `env` (plus PATH) in its environment; kills it after `timeoutMs`. */
export async function spawnCli(args: string[], options: { env: Record<string, string>; cwd: string; timeoutMs?: number }): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: { PATH: process.env.PATH ?? "", ...options.env } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
  const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

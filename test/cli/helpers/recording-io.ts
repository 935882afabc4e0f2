/**
 * In-process `CliIo` / `CliOutput` that record what a command writes, for tests that call commands
 * directly.
 */
import type { CliIo } from "../../../src/cli/cli-io.ts";
import type { CliOutput } from "../../../src/cli/terminal.ts";

export interface RecordingOutput extends CliOutput {
  text(): string;
}

export function recordingOutput(options: { isTTY?: boolean; columns?: number } = {}): RecordingOutput {
  const chunks: string[] = [];
  return {
    write(text: string) {
      chunks.push(text);
      return true;
    },
    ...(options.isTTY === undefined ? {} : { isTTY: options.isTTY }),
    ...(options.columns === undefined ? {} : { columns: options.columns }),
    text: () => chunks.join(""),
  };
}

export interface RecordingIo extends CliIo {
  out(): string;
  err(): string;
}

export function recordingIo(env: Record<string, string | undefined>, cwd: string): RecordingIo {
  const out: string[] = [];
  const err: string[] = [];
  return {
    stdout: (text) => void out.push(text),
    stderr: (text) => void err.push(text),
    env,
    cwd,
    out: () => out.join(""),
    err: () => err.join(""),
  };
}

/**
 * Where live progress goes: stderr (stdout stays clean for scripts), drawn as a table in place when
 * stderr is an interactive terminal, as plain lines otherwise.
 */
import type { CliIo } from "./cli-io.ts";

/** A text output: a write function plus what is known about the terminal behind it. */
export interface CliOutput {
  write(text: string): unknown;
  /** True on an interactive terminal (the step table is then redrawn in place). */
  isTTY?: boolean;
  /** Terminal width in columns, when known. */
  columns?: number;
}

/**
 * The progress output of a command. The table mode needs a real terminal: it is used only when the
 * command runs with the process's own io (`processIo()`, whose `env` is `process.env`) and stderr is
 * a TTY; `mode` forces one or the other (`--progress table|plain`).
 */
export function progressOutput(io: CliIo, mode: "auto" | "table" | "plain" = "auto"): CliOutput {
  const processTerminal = io.env === process.env && process.stderr.isTTY === true;
  const isTTY = mode === "table" || (mode === "auto" && processTerminal);
  return {
    write: (text) => io.stderr(text),
    isTTY,
    ...(processTerminal && process.stderr.columns ? { columns: process.stderr.columns } : {}),
  };
}

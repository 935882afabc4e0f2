/**
 * Runs one shell command of `.github/octoflow.yml` (`checkout.commands`) in a prepared checkout:
 * no stdin, a given environment, a time limit, and only the last bytes of its output kept.
 *
 * Node's `child_process` is used directly (not execa): what matters here is killing the whole process
 * group on a timeout (a test runner's workers, a dev server the tests started) and keeping the *tail*
 * of the output, and neither is what a library's `timeout` / `maxBuffer` do (they kill one process
 * and keep or refuse the head).
 */
import { spawn, execFile } from "node:child_process";

/** The output a command step keeps by default: its last 64 KB. */
export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024;
/** How long a command has after SIGTERM before its process group gets SIGKILL. */
const KILL_GRACE_MS = 2_000;
/** How long the pipes may stay open after the command exited (a daemon that escaped the group holds them). */
const PIPE_DRAIN_MS = 1_000;

export interface CommandRequest {
  /** A shell command line (`sh -c` on POSIX, `cmd.exe /d /s /c` on Windows). */
  command: string;
  cwd: string;
  /** The complete environment of the command (nothing is inherited). */
  env: Record<string, string>;
  timeoutMs: number;
  /** Bytes of output (stdout and stderr, interleaved as they came) kept from the end. */
  maxOutputBytes?: number;
  /** Aborting kills the process group, like a timeout. */
  signal?: AbortSignal;
}

export interface CommandResult {
  /** The exit code; null when a signal ended the command. */
  exitCode: number | null;
  /** The signal that ended the command, if one did. */
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  /** The last `maxOutputBytes` of the output, decoded as UTF-8. */
  output: string;
  /** Bytes of output dropped from the front (0 when everything was kept). */
  droppedBytes: number;
  durationMs: number;
}

/** Keeps the last `max` bytes written to it. */
function tailBuffer(max: number) {
  const chunks: Buffer[] = [];
  let kept = 0;
  let dropped = 0;
  return {
    push(chunk: Buffer) {
      chunks.push(chunk);
      kept += chunk.byteLength;
      while (kept > max) {
        const first = chunks[0] as Buffer;
        const excess = kept - max;
        if (first.byteLength <= excess) {
          chunks.shift();
          kept -= first.byteLength;
          dropped += first.byteLength;
        } else {
          chunks[0] = first.subarray(excess);
          kept -= excess;
          dropped += excess;
        }
      }
    },
    text(): string {
      // a cut may fall inside a multi-byte character: drop its orphaned continuation bytes
      let bytes = Buffer.concat(chunks);
      if (dropped > 0) {
        let start = 0;
        while (start < Math.min(3, bytes.byteLength) && ((bytes[start] as number) & 0xc0) === 0x80) start++;
        bytes = bytes.subarray(start);
      }
      return bytes.toString("utf8");
    },
    dropped: () => dropped,
  };
}

/** Signals every process of the group led by `pid` (POSIX), or the process tree (Windows). */
function killTree(pid: number, signal: NodeJS.Signals): void {
  if (process.platform === "win32") {
    execFile("taskkill", ["/pid", String(pid), "/T", "/F"], () => undefined);
    return;
  }
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

/**
 * Runs `request.command`; never rejects for the command's own failure (a non-zero exit, a signal, a
 * timeout are results), only when it cannot be started at all.
 *
 * @example
 * const result = await runCommand({ command: "npm test", cwd: dir, env: commandEnv(process.env), timeoutMs: 600_000 });
 * if (result.exitCode === 0) ...
 */
export function runCommand(request: CommandRequest): Promise<CommandResult> {
  const started = Date.now();
  const tail = tailBuffer(request.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES);
  const windows = process.platform === "win32";
  return new Promise<CommandResult>((resolve, reject) => {
    const child = spawn(request.command, {
      cwd: request.cwd,
      env: request.env,
      shell: true,
      stdio: ["ignore", "pipe", "pipe"],
      // its own process group (POSIX), so a timeout kills what it started too
      detached: !windows,
      windowsHide: true,
    });
    let timedOut = false;
    let aborted = false;
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;
    let settled = false;

    const stop = () => {
      if (child.pid === undefined || graceTimer) return;
      killTree(child.pid, "SIGTERM");
      graceTimer = setTimeout(() => child.pid !== undefined && killTree(child.pid, "SIGKILL"), KILL_GRACE_MS);
      graceTimer.unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, request.timeoutMs);
    const onAbort = () => {
      aborted = true;
      stop();
    };
    request.signal?.addEventListener("abort", onAbort, { once: true });
    if (request.signal?.aborted) onAbort();

    const finish = () => {
      if (settled || !exited) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(drainTimer);
      request.signal?.removeEventListener("abort", onAbort);
      // whatever is left of the group (a straggler that ignored SIGTERM, a server left in the background) goes now
      if (child.pid !== undefined && (!windows || graceTimer)) killTree(child.pid, "SIGKILL");
      clearTimeout(graceTimer);
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve({ exitCode: exited.code, signal: exited.signal, timedOut, aborted, output: tail.text(), droppedBytes: tail.dropped(), durationMs: Date.now() - started });
    };

    child.stdout?.on("data", (chunk: Buffer) => tail.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => tail.push(chunk));
    child.on("error", (error) => {
      if (exited || settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(graceTimer);
      request.signal?.removeEventListener("abort", onAbort);
      reject(error);
    });
    child.on("exit", (code, signal) => {
      exited = { code, signal };
      // the pipes close when the last process holding them ends; one that escaped the group is not waited for
      drainTimer = setTimeout(finish, PIPE_DRAIN_MS);
      drainTimer.unref();
    });
    child.on("close", finish);
  });
}

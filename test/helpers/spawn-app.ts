/**
 * Starts `node src/main.ts` (what `npm start` runs) as a child process on a free port and waits
 * until it listens. Used by the foundation tests to exercise the real start-up path.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Probot's setup flow opens a smee.io channel and writes it to ./.env when it can reach smee.io:
 * never from a test (no network, and no .env written into the repository).
 */
const NO_SMEE_SETUP = "true";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface SpawnedApp {
  child: ChildProcess;
  baseUrl: string;
  output: () => string;
  stop: () => Promise<void>;
}

/** Runs the app to completion (for start-up failures): returns exit code and output. */
export async function runApp(env: Record<string, string>, timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["src/main.ts"], { cwd: ROOT, env: { PATH: process.env.PATH ?? "", NO_SMEE_SETUP, ...env } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Starts the app and resolves once `GET /healthz` (or `readyPath`) answers. */
export async function spawnApp(env: Record<string, string>, options: { readyPath?: string; cwd?: string } = {}): Promise<SpawnedApp> {
  const port = await freePort();
  const child = spawn(process.execPath, [`${ROOT}/src/main.ts`], {
    cwd: options.cwd ?? ROOT,
    env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: String(port), LOG_FORMAT: "json", NO_SMEE_SETUP, ...env },
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  let exited = false;
  child.on("exit", () => (exited = true));
  for (;;) {
    if (exited) throw new Error(`app exited during start-up:\n${out}`);
    try {
      const res = await fetch(`${baseUrl}${options.readyPath ?? "/healthz"}`, { redirect: "manual" });
      await res.arrayBuffer();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`app did not start listening in time:\n${out}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    child,
    baseUrl,
    output: () => out,
    stop: async () => {
      if (exited) return;
      const done = new Promise((r) => child.on("exit", r));
      child.kill("SIGKILL");
      await done;
    },
  };
}

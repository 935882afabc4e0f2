/**
 * The command runner of command steps: exit codes, the process-group kill on a timeout, the output
 * cap (the tail is kept), no stdin.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCommand } from "../../src/checkout/run-command.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "octoflow-run-command-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const env = () => ({ PATH: process.env.PATH ?? "" });
const node = JSON.stringify(process.execPath);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("runCommand", () => {
  it("reports the exit code and the interleaved output; the command reads no stdin", async () => {
    writeFileSync(join(dir, "t.mjs"), "process.stdout.write('out\\n'); process.stderr.write('err\\n'); let n = 0; process.stdin.on('data', (d) => (n += d.length)); process.stdin.on('end', () => { console.log('stdin bytes', n); process.exit(3); });\n");
    const result = await runCommand({ command: `${node} t.mjs`, cwd: dir, env: env(), timeoutMs: 20_000 });
    expect(result).toMatchObject({ exitCode: 3, timedOut: false, aborted: false, droppedBytes: 0 });
    expect(result.output).toContain("out\n");
    expect(result.output).toContain("err\n");
    expect(result.output).toContain("stdin bytes 0");

    const ok = await runCommand({ command: "echo fine", cwd: dir, env: env(), timeoutMs: 20_000 });
    expect(ok).toMatchObject({ exitCode: 0, output: "fine\n" });
  });

  it("kills the whole process group on a timeout, grandchildren included", async () => {
    // the command starts a grandchild that would outlive it, records its pid, then both sleep
    writeFileSync(
      join(dir, "t.mjs"),
      "import { spawn } from 'node:child_process'; import { writeFileSync } from 'node:fs';\n" +
        "const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });\n" +
        "writeFileSync('grandchild.pid', String(child.pid)); console.log('started'); setInterval(() => {}, 1000);\n",
    );
    const started = Date.now();
    const result = await runCommand({ command: `${node} t.mjs`, cwd: dir, env: env(), timeoutMs: 1_000 });
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBeNull();
    expect(result.output).toContain("started");
    expect(Date.now() - started).toBeLessThan(6_000);
    const grandchild = Number(readFileSync(join(dir, "grandchild.pid"), "utf8"));
    for (let i = 0; i < 50 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 50));
    expect(alive(grandchild)).toBe(false);
  });

  it("a command that ignores SIGTERM is killed after the grace period", async () => {
    writeFileSync(join(dir, "t.mjs"), "import { writeFileSync } from 'node:fs'; writeFileSync('self.pid', String(process.pid)); process.on('SIGTERM', () => console.log('ignored')); console.log('up'); setInterval(() => {}, 1000);\n");
    const result = await runCommand({ command: `${node} t.mjs`, cwd: dir, env: env(), timeoutMs: 500 });
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBeNull();
    expect(result.output).toContain("ignored");
    const pid = Number(readFileSync(join(dir, "self.pid"), "utf8"));
    for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    expect(alive(pid)).toBe(false);
  });

  it("keeps only the last bytes of a long output and counts what it dropped", async () => {
    // 200,000 bytes of numbered lines, then a last line
    writeFileSync(join(dir, "t.mjs"), "let s = ''; for (let i = 0; i < 20000; i++) s += String(i).padStart(9, '0') + '\\n'; process.stdout.write(s + 'the end é\\n');\n");
    const result = await runCommand({ command: `${node} t.mjs`, cwd: dir, env: env(), timeoutMs: 20_000, maxOutputBytes: 1_000 });
    expect(result.exitCode).toBe(0);
    const total = 200_000 + Buffer.byteLength("the end é\n");
    expect(result.droppedBytes).toBe(total - 1_000);
    expect(Buffer.byteLength(result.output)).toBeLessThanOrEqual(1_000);
    expect(result.output.endsWith("000019999\nthe end é\n")).toBe(true);
    expect(result.output).not.toContain("000000000");
  });

  it("aborting stops the command like a timeout", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const result = await runCommand({ command: `${node} -e "setInterval(() => {}, 1000)"`, cwd: dir, env: env(), timeoutMs: 60_000, signal: controller.signal });
    expect(result).toMatchObject({ aborted: true, timedOut: false, exitCode: null });
  });
});

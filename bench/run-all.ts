/**
 * Runs every benchmark in `bench/` (each `*.ts` here except this file and the shared kits), one
 * after the other in its own process, and prints ONE summary table: the benchmark, its exit
 * status, its wall time and its closing lines (where each benchmark prints its ratio or verdict).
 *
 *   npm run bench                 # every benchmark with its own defaults (tens of minutes)
 *   npm run bench -- --quick      # small sizes and short durations (a few minutes)
 *   npm run bench -- --quick ack  # only the benchmarks whose file name contains "ack"
 *
 * Benchmarks that need PostgreSQL (`scale-*`) run when OCTOFLOW_BENCH_DATABASE_URL or
 * OCTOFLOW_TEST_DATABASE_URL is set, and are listed as skipped otherwise.
 */
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const filters = args.filter((a) => !a.startsWith("--"));
const pg = process.env["OCTOFLOW_BENCH_DATABASE_URL"] ?? process.env["OCTOFLOW_TEST_DATABASE_URL"];

/** Files that are shared code, not benchmarks. */
const NOT_BENCHMARKS = new Set(["run-all.ts"]);
const isKit = (file: string) => file.endsWith("-kit.ts");

/** Quick-mode arguments and environment per benchmark (the rest get the generic short settings). */
const QUICK: Record<string, { args?: string[]; env?: Record<string, string> }> = {
  "engine-concurrent-runs.ts": { args: ["1000", "100"] },
  "github-webhook-ack.ts": { env: { RATE: "100", DURATION: "3", ROUNDS: "1", WARMUP: "100" } },
  "workspace-snapshot.ts": { args: ["1000", "10"] },
};
const QUICK_ENV = { DURATION: "3", ROUNDS: "1", QUICK: "1" };

interface Outcome {
  name: string;
  status: string;
  seconds: number;
  result: string;
}

function runOne(file: string): Promise<Outcome> {
  const name = file.replace(/\.ts$/, "");
  if (file.startsWith("scale-") && !pg) return Promise.resolve({ name, status: "skipped", seconds: 0, result: "needs OCTOFLOW_BENCH_DATABASE_URL (PostgreSQL)" });
  const special = quick ? QUICK[file] : undefined;
  const env = { ...process.env, ...(quick ? QUICK_ENV : {}), ...(special?.env ?? {}), ...(pg ? { OCTOFLOW_BENCH_DATABASE_URL: pg } : {}) };
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--expose-gc", join(here, file), ...(special?.args ?? [])], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      process.stdout.write(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.on("close", (code) => {
      const lines = (code === 0 ? out : err || out).split("\n").map((l) => l.trim()).filter((l) => l.length > 0);
      // the closing lines, without the restated targets (two: some benchmarks end with one line per store)
      const closing = lines.filter((l) => !/^targets?:/i.test(l)).slice(code === 0 ? -2 : -1);
      const result = closing.join(" ; ").replace(/\|/g, "/").replace(/\s+/g, " ").slice(0, 300);
      resolve({ name, status: code === 0 ? "ok" : `exit ${code ?? "?"}`, seconds: (performance.now() - started) / 1000, result });
    });
  });
}

const files = readdirSync(here)
  .filter((f) => f.endsWith(".ts") && !NOT_BENCHMARKS.has(f) && !isKit(f))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
const outcomes: Outcome[] = [];
for (const file of files) {
  console.log(`\n=== ${file}${quick ? " (quick)" : ""} ===`);
  outcomes.push(await runOne(file));
}
console.log(`\n## Benchmarks${quick ? " (quick mode)" : ""}\n`);
console.log("| benchmark | status | time | result (closing line) |");
console.log("|---|---|---|---|");
for (const o of outcomes) console.log(`| ${o.name} | ${o.status} | ${o.seconds.toFixed(1)} s | ${o.result} |`);
process.exitCode = outcomes.some((o) => o.status.startsWith("exit")) ? 1 : 0;

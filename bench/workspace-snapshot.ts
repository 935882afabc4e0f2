/**
 * The run workspace over a generated 5,000-file / 50 MB repository, against the fake GitHub (the
 * archive served through the real redirect, as a gzip tar with GitHub's top folder):
 * - snapshot: archive fetch + gunzip + untar + disk-cache write, then the same from the disk cache in a
 *   new process-like service; peak RSS of the process that loads it (a child, so the generator's
 *   memory does not count) beside its RSS before loading;
 * - `search`: regex latency over the whole snapshot (first search decodes every file; then the median
 *   of 5 runs per pattern). Target: under 300 ms for a regex over 50 MB.
 *
 *   node bench/workspace-snapshot.ts [files=5000] [megabytes=50]
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { ProbotOctokit } from "probot";
import type { GitHubClient } from "../src/github/client.ts";
import { refusePath } from "../src/github/outputs/edit-paths.ts";
import { createGitHubRepositorySource } from "../src/github/repository-source.ts";
import { createMemoryRunStore } from "../src/store/memory-run-store.ts";
import { asStepId, type PlannedStep, type RunPlan, type Trigger } from "../src/workflows/types.ts";
import { createRunWorkspaces } from "../src/workspace/run-workspaces.ts";
import { installRepoModel } from "../test/fakes/github-repo-model.ts";
import { DOWNLOAD_PREFIX, startGitHubFake } from "../test/fakes/github-server.ts";

const log = pino({ level: "silent" });
const trigger: Trigger = { kind: "label", repo: { owner: "octo", name: "big", defaultBranch: "main", installationId: 1 }, number: 1, isPullRequest: false, actor: "a", inputs: {} };
const step: PlannedStep = { id: asStepId("generate"), name: "generate", role: "generate", prompt: "p", needs: [], retries: 0, timeoutMs: 60_000, output: "pull_request" };
const plan: RunPlan = { workflow: "bench", description: "", steps: [step], inputs: {}, concurrency: { group: "g", cancelInProgress: false }, customRoles: {} };
/** Patterns that scan the whole repository (few or no hits), then one that stops at the hit limit. */
const PATTERNS: [string, RegExp][] = [
  ["literal, rare", /lowStock\(/],
  ["classes + alternation, no hit", /(?:ship|tax)Total\w*\(\d+\)/],
  ["case-insensitive, rare", /LOWSTOCK\(ITEM\)/i],
  ["many hits (stops at 200)", /function \w+Handler\(/],
];

/** Deterministic source-like text (a small LCG, so every run generates the same repository). */
function generate(files: number, bytes: number): Record<string, string> {
  let seed = 42;
  const rand = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const words = ["order", "stock", "price", "user", "cart", "item", "total", "count", "ship", "tax"];
  const out: Record<string, string> = {};
  const per = Math.floor(bytes / files);
  for (let i = 0; i < files; i++) {
    const lines: string[] = [];
    let size = 0;
    while (size < per) {
      const w = words[Math.floor(rand() * words.length)] ?? "x";
      const line =
        rand() < 0.1
          ? `export function ${w}${i}Handler(input: string) {`
          : rand() < 0.3
            ? `  return compute(${w}, ${Math.floor(rand() * 1000)}); // ${w} ${w} ${w}`
            : `  const ${w}${Math.floor(rand() * 100)} = "${w.repeat(1 + Math.floor(rand() * 6))}"; // keep ${w}`;
      lines.push(line);
      size += line.length + 1;
    }
    if (i % 250 === 0) lines.push("  if (lowStock(item)) notify();");
    out[`src/module-${Math.floor(i / 100)}/file-${i}.ts`] = `${lines.join("\n")}\n`;
  }
  return out;
}

function octokit(url: string): GitHubClient {
  return new ProbotOctokit({ auth: { token: "ghs_bench" }, baseUrl: url, throttle: { enabled: false }, retry: { enabled: false }, log }) as GitHubClient;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

async function client(url: string, dir: string): Promise<void> {
  const store = createMemoryRunStore();
  const service = () => createRunWorkspaces({ store, sourceFor: (t) => createGitHubRepositorySource(() => Promise.resolve(octokit(url)), t.repo, store), refusePath, snapshots: { dir, maxArchiveBytes: 500_000_000 } });
  const rssBefore = process.memoryUsage().rss;
  const request = { runId: "run-1", trigger, plan, step, upstream: {} };
  let started = performance.now();
  const view = await service().viewFor(request);
  const fetchMs = performance.now() - started;
  const peakAfterFetch = process.resourceUsage().maxRSS * 1024;
  const files = (await view.listFiles()).length;
  started = performance.now();
  const fromDisk = await service().viewFor(request);
  const diskMs = performance.now() - started;
  const searches: { pattern: string; firstMs: number; medianMs: number; hits: number }[] = [];
  for (const [name, pattern] of PATTERNS) {
    started = performance.now();
    const hits = await fromDisk.search(pattern, { limit: 200 });
    const firstMs = performance.now() - started;
    const runs: number[] = [];
    for (let i = 0; i < 5; i++) {
      started = performance.now();
      await fromDisk.search(pattern, { limit: 200 });
      runs.push(performance.now() - started);
    }
    searches.push({ pattern: name, firstMs, medianMs: median(runs), hits: hits.length });
  }
  const result = { mode: view.mode, files, fetchMs, diskMs, rssBeforeMb: rssBefore / 1e6, peakFetchMb: peakAfterFetch / 1e6, peakRssMb: (process.resourceUsage().maxRSS * 1024) / 1e6, searches };
  process.stdout.write(JSON.stringify(result));
}

async function main(): Promise<void> {
  const files = Number(process.argv[2] ?? 5000);
  const megabytes = Number(process.argv[3] ?? 50);
  const gh = await startGitHubFake();
  const content = generate(files, megabytes * 1_000_000);
  const total = Object.values(content).reduce((n, c) => n + c.length, 0);
  const model = installRepoModel(gh, { owner: "octo", repo: "big", files: content });
  const sha = model.state.refs.get("heads/main") ?? "";
  // build the archive once, then serve the bytes (the generation is not part of the measurement)
  const archive = Buffer.from(await (await fetch(`${gh.url}${DOWNLOAD_PREFIX}octo/big/legacy.tar.gz/${sha}`)).arrayBuffer());
  gh.allow("GET", `${DOWNLOAD_PREFIX}octo/big/legacy.tar.gz/{sha}`, () => ({ body: archive, headers: { "content-type": "application/x-gzip" } }));
  const dir = await mkdtemp(join(tmpdir(), "octoflow-bench-snap-"));
  try {
    // the loader runs in a child (its peak RSS is the workspace's alone); this process serves the fake GitHub meanwhile
    const { stdout: out } = await promisify(execFile)(process.execPath, [fileURLToPath(import.meta.url), "client", gh.url, dir], { maxBuffer: 10_000_000, encoding: "utf8" });
    const r = JSON.parse(out) as { mode: string; files: number; fetchMs: number; diskMs: number; rssBeforeMb: number; peakFetchMb: number; peakRssMb: number; searches: { pattern: string; firstMs: number; medianMs: number; hits: number }[] };
    gh.verify();
    console.log(`repository: ${files} files, ${(total / 1e6).toFixed(1)} MB of text, archive ${(archive.byteLength / 1e6).toFixed(1)} MB gzip`);
    console.log(`| figure | value |\n|---|---|`);
    console.log(`| mode | ${r.mode} (${r.files} files) |`);
    console.log(`| archive fetch + gunzip + untar + disk-cache write | ${r.fetchMs.toFixed(0)} ms |`);
    console.log(`| load from the disk cache (another service) | ${r.diskMs.toFixed(0)} ms |`);
    console.log(`| RSS before loading → peak after the archive load | ${r.rssBeforeMb.toFixed(0)} MB → ${r.peakFetchMb.toFixed(0)} MB |`);
    console.log(`| peak RSS at the end (a second copy from disk, every file decoded by search) | ${r.peakRssMb.toFixed(0)} MB |`);
    for (const s of r.searches) console.log(`| search ${s.pattern} (${s.hits} hits): first / median of 5 | ${s.firstMs.toFixed(0)} ms / ${s.medianMs.toFixed(0)} ms (target < 300 ms) |`);
  } finally {
    await rm(dir, { recursive: true, force: true });
    await gh.close();
  }
}

if (process.argv[2] === "client") await client(process.argv[3] ?? "", process.argv[4] ?? "");
else await main();

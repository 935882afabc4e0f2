/**
 * Webhook acknowledgement latency under load: the Octoflow app (signature check, delivery de-dup,
 * config + permission gate, plan, run persisted and enqueued in SQLite) next to a bare Probot app
 * answering the same signed deliveries, in the same run. Each server runs in its own child process
 * (so the load generator does not share its event loop); the generator sends `issues.labeled`
 * deliveries (the same payloads to both apps: label `octoflow:bug-fix`, a new issue number and
 * delivery id each) at a steady rate, one every 1000/RATE ms over up to 10 keep-alive connections
 * (`LOAD=burst` uses autocannon's `overallRate` instead, which fires each connection's per-second
 * quota back to back at the top of every second). Each app gets WARMUP deliveries first. The
 * queue worker and the webhook inbox's worker are off (`INBOX=1` keeps the inbox worker on, in the
 * same process): this measures the acknowledgement path — one insert (D13) — not the runs.
 *
 * Target: p50 and p99 ratio (Octoflow ÷ bare Probot) ≤ 1.3.
 *
 *   node bench/github-webhook-ack.ts            # 200 req/s for 20 s per app, 3 alternating rounds
 *   RATE=100 DURATION=5 ROUNDS=1 MEMORY=0 node bench/github-webhook-ack.ts
 *   LOAD=burst node bench/github-webhook-ack.ts  # autocannon's per-second bursts
 *   MODE=saturate DURATION=5 node bench/github-webhook-ack.ts  # throughput at saturation, SQLite,
 *     in-memory and (with OCTOFLOW_BENCH_DATABASE_URL or OCTOFLOW_TEST_DATABASE_URL) PostgreSQL
 */
import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent, createServer, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { sign } from "@octokit/webhooks-methods";
import { pino } from "pino";
import { createNodeMiddleware, Probot, ProbotOctokit } from "probot";

const SECRET = "bench-secret";
const RATE = Number(process.env["RATE"] ?? 200);
const DURATION = Number(process.env["DURATION"] ?? 20);
const WARMUP = Number(process.env["WARMUP"] ?? 300);
const ROUNDS = Number(process.env["ROUNDS"] ?? 3);
const MEMORY = process.env["MEMORY"] !== "0";
/**
 * `paced` (default): one delivery every 1000/RATE ms, open loop, over at most 10 keep-alive
 * connections. `burst`: autocannon's `overallRate`, which sends each connection's per-second quota
 * back to back at the start of every second (10 concurrent closed-loop senders for part of each
 * second, then silence), so its latency is mostly queueing behind the other connections' requests.
 */
const LOAD = process.env["LOAD"] === "burst" ? "burst" : "paced";
/** `octoflow-memory` swaps SQLite for the in-memory store, to separate the app's own cost from the store's. */
type Variant = "bare" | "octoflow" | "octoflow-memory" | "octoflow-postgres";
/** PostgreSQL for the `octoflow-postgres` variant (a throwaway schema is created and dropped). */
const PG_URL = process.env["OCTOFLOW_BENCH_DATABASE_URL"] ?? process.env["OCTOFLOW_TEST_DATABASE_URL"];
/**
 * `latency` (default): paced load, percentiles. `saturate`: 32 closed-loop senders for DURATION
 * seconds, deliveries acknowledged per second (throughput at saturation), beside bare Probot.
 */
const MODE = process.env["MODE"] === "saturate" ? "saturate" : "latency";

async function serve(variant: Variant, privateKey: string): Promise<void> {
  const log = pino({ level: "silent" });
  const Octokit = ProbotOctokit.defaults((o: Record<string, unknown>) => ({ ...o, throttle: { ...(o.throttle as object), enabled: false } }));
  let baseUrl = "https://api.github.com";
  let appFn: Parameters<typeof createNodeMiddleware>[0] = (app) => {
    app.on("issues.labeled", async () => undefined);
  };
  const dataDir = mkdtempSync(join(tmpdir(), "octoflow-bench-"));
  let cleanup = async () => undefined as void;
  let stopInbox: (() => Promise<void>) | undefined;
  if (variant !== "bare") {
    const { startGitHubFake } = await import("../test/fakes/github-server.ts");
    const { installRepoModel } = await import("../test/fakes/github-repo-model.ts");
    const { createRuntime, octoflowApp } = await import("../src/app.ts");
    const { loadEnv } = await import("../src/config/env.ts");
    const { createMemoryRunStore } = await import("../src/store/memory-run-store.ts");
    const { createPostgresRunStore } = await import("../src/store/postgres-run-store.ts");
    const schema = `bench_ack_${process.pid}`;
    const store =
      variant === "octoflow-memory"
        ? createMemoryRunStore()
        : variant === "octoflow-postgres"
          ? await createPostgresRunStore({ connectionString: PG_URL ?? "", schema })
          : undefined;
    if (variant === "octoflow-postgres") {
      const pg = (await import("pg")).default;
      cleanup = async () => {
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await client.end();
      };
    }
    const gh = await startGitHubFake({ validate: false });
    installRepoModel(gh, { owner: "octo", repo: "app", files: { "README.md": "hi" }, permissions: { alice: "write" } });
    baseUrl = gh.url;
    const env = loadEnv({ NODE_ENV: "production", APP_ID: "123", PRIVATE_KEY: privateKey, WEBHOOK_SECRET: SECRET, LOG_LEVEL: "silent", DATABASE_URL: `sqlite:${join(dataDir, "bench.db")}` });
    const runtime = await createRuntime(env, log, {
      startWorkers: false,
      ...(store ? { store } : {}),
      agents: { run: async () => ({ text: "", usage: { inputTokens: 0, outputTokens: 0, cachedTokens: 0 }, costUsd: 0 }) },
    });
    appFn = octoflowApp(runtime);
    stopInbox = () => runtime.inbox.stop();
  }
  const probot = new Probot({ appId: 123, privateKey, secret: SECRET, baseUrl, log, Octokit });
  const middleware = await createNodeMiddleware(appFn, { probot });
  // The inbox worker (gate, config, plan, run) is off unless INBOX=1: the acknowledgement alone.
  if (stopInbox && process.env["INBOX"] !== "1") await stopInbox();
  const server = createServer((req, res) => void middleware(req, res, () => res.writeHead(404).end()));
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  process.stdout.write(`${typeof address === "object" && address ? address.port : 0}\n`);
  process.stdin.resume();
  await once(process.stdin, "end");
  server.close();
  rmSync(dataDir, { recursive: true, force: true });
  await cleanup();
  process.exit(0);
}

interface Delivery {
  body: string;
  headers: Record<string, string>;
}

async function deliveries(variant: Variant, count: number): Promise<Delivery[]> {
  const index = JSON.parse(readFileSync(fileURLToPath(import.meta.resolve("@octokit/webhooks-examples/api.github.com/index.json")), "utf8")) as { name: string; examples: Record<string, unknown>[] }[];
  const example = index.find((e) => e.name === "issues")?.examples.find((e) => e.action === "labeled");
  if (!example) throw new Error("no issues.labeled example");
  const out: Delivery[] = [];
  for (let i = 0; i < count; i++) {
    const payload = structuredClone(example) as Record<string, Record<string, unknown>>;
    payload.label!.name = "octoflow:bug-fix";
    Object.assign(payload.issue!, { number: i + 1, state: "open", title: `Bug ${i}` });
    Object.assign(payload.repository!, { name: "app", full_name: "octo/app", default_branch: "main" });
    (payload.repository!.owner as Record<string, unknown>).login = "octo";
    payload.sender = { login: "alice", id: 1, type: "User" };
    payload.installation = { id: 1 };
    const body = JSON.stringify(payload);
    out.push({
      body,
      headers: { "content-type": "application/json", "x-github-event": "issues", "x-github-delivery": `${variant}-${i}`, "x-hub-signature-256": await sign(SECRET, body) },
    });
  }
  return out;
}

interface Latency {
  total: number;
  p50: number;
  p99: number;
  max: number;
  failures: number;
}

function percentiles(times: number[], failures: number): Latency {
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
  return { total: times.length, p50: at(0.5), p99: at(0.99), max: times.at(-1) ?? 0, failures };
}

/**
 * Sends `list` at a steady `rate` (open loop: a slow answer never delays the next send) and times
 * each delivery from the moment it is handed to the HTTP client to the end of its response, so
 * waiting for a free connection counts.
 */
async function pacedLoad(port: number, list: Delivery[], rate: number, duration: number | undefined, amount?: number): Promise<Latency> {
  const count = duration === undefined ? (amount ?? 0) : Math.round(rate * duration);
  const agent = new Agent({ keepAlive: true, maxSockets: 10 });
  const times: number[] = [];
  let failures = 0;
  const send = (d: Delivery) =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const req = request({ host: "127.0.0.1", port, path: "/api/github/webhooks", method: "POST", agent, headers: d.headers }, (res) => {
        res.resume();
        res.on("end", () => {
          times.push(performance.now() - t0);
          if ((res.statusCode ?? 0) >= 300) failures++;
          resolve();
        });
      });
      req.on("error", () => {
        failures++;
        resolve();
      });
      req.end(d.body);
    });
  const interval = 1000 / rate;
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const wait = start + i * interval - performance.now();
    if (wait > 0.5) await new Promise((resolve) => setTimeout(resolve, wait));
    inflight.push(send(list[i % list.length]!));
  }
  await Promise.all(inflight);
  agent.destroy();
  return percentiles(times, failures);
}

/** Runs autocannon and computes percentiles from every response time (µs precision, not whole ms). */
async function burstLoad(port: number, list: Delivery[], rate: number, duration: number | undefined, amount?: number): Promise<Latency> {
  let next = 0;
  const times: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}/api/github/webhooks`,
        method: "POST",
        connections: 10,
        overallRate: rate,
        ...(duration === undefined ? { amount: amount ?? 0 } : { duration }),
        requests: [
          {
            setupRequest: (req) => {
              const d = list[next++ % list.length]!;
              return { ...req, method: "POST", body: d.body, headers: d.headers };
            },
          },
        ],
      },
      (error, r) => (error ? reject(error) : resolve(r)),
    );
    instance.on("response", (_client: unknown, _status: number, _bytes: number, responseTime: number) => times.push(responseTime));
  });
  return percentiles(times, result.non2xx + result.errors);
}

const load = LOAD === "paced" ? pacedLoad : burstLoad;

/** 32 closed-loop senders for `duration` seconds: deliveries acknowledged per second. */
async function saturatedLoad(port: number, list: Delivery[], duration: number): Promise<{ perSecond: number; failures: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  let next = 0;
  let done = 0;
  let failures = 0;
  const end = performance.now() + duration * 1000;
  const send = (d: Delivery) =>
    new Promise<void>((resolve) => {
      const req = request({ host: "127.0.0.1", port, path: "/api/github/webhooks", method: "POST", agent, headers: d.headers }, (res) => {
        res.resume();
        res.on("end", () => {
          if ((res.statusCode ?? 0) >= 300) failures++;
          else done++;
          resolve();
        });
      });
      req.on("error", () => {
        failures++;
        resolve();
      });
      req.end(d.body);
    });
  const start = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (performance.now() < end) await send(list[next++ % list.length]!);
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  return { perSecond: done / elapsed, failures };
}

async function saturate(variant: Variant, privateKey: string): Promise<number> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--serve", variant], { stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, BENCH_KEY: privateKey } });
  const [line] = (await once(createInterface({ input: child.stdout! }), "line")) as [string];
  const port = Number(line);
  // every delivery a new id: at most ≈ 6,000/s for DURATION seconds are needed
  const list = await deliveries(variant, WARMUP + 6000 * DURATION);
  await pacedLoad(port, list.slice(0, WARMUP), 1000, undefined, WARMUP);
  const result = await saturatedLoad(port, list.slice(WARMUP), DURATION);
  child.stdin!.end();
  await once(child, "exit");
  if (result.failures > 0) throw new Error(`${variant}: ${result.failures} non-2xx answers or errors`);
  return result.perSecond;
}

async function saturationMain(privateKey: string) {
  const variants: Variant[] = ["bare", "octoflow", ...(MEMORY ? (["octoflow-memory"] as const) : []), ...(PG_URL ? (["octoflow-postgres"] as const) : [])];
  const names: Record<Variant, string> = { bare: "bare Probot", octoflow: "Octoflow (SQLite)", "octoflow-memory": "Octoflow (in-memory)", "octoflow-postgres": "Octoflow (PostgreSQL)" };
  const rounds: Record<string, number>[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const round: Record<string, number> = {};
    for (const variant of variants) round[variant] = await saturate(variant, privateKey);
    rounds.push(round);
  }
  console.log(`Webhook acknowledgement throughput at saturation (32 closed-loop connections, ${DURATION} s per app), ${ROUNDS} round(s)\n`);
  console.log("| round | app | deliveries/s | ÷ bare Probot |");
  console.log("|---|---|---|---|");
  rounds.forEach((r, i) => {
    for (const variant of variants) console.log(`| ${i + 1} | ${names[variant]} | ${(r[variant] ?? 0).toFixed(0)} | ${((r[variant] ?? 0) / (r.bare ?? 1)).toFixed(2)} |`);
  });
  const medianOf = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  for (const variant of variants.filter((v) => v !== "bare")) {
    const ratio = medianOf(rounds.map((r) => (r[variant] ?? 0) / (r.bare ?? 1)));
    console.log(`median ratio ${names[variant]} ÷ bare Probot = ${ratio.toFixed(2)}`);
  }
}

async function measure(variant: Variant, privateKey: string): Promise<Latency> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--serve", variant], { stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, BENCH_KEY: privateKey } });
  const [line] = (await once(createInterface({ input: child.stdout! }), "line")) as [string];
  const port = Number(line);
  const list = await deliveries(variant, WARMUP + RATE * DURATION + 1000);
  await load(port, list.slice(0, WARMUP), RATE, undefined, WARMUP);
  const result = await load(port, list.slice(WARMUP), RATE, DURATION);
  child.stdin!.end();
  await once(child, "exit");
  if (result.failures > 0) throw new Error(`${variant}: ${result.failures} non-2xx answers or errors`);
  return result;
}

async function main() {
  if (process.argv[2] === "--serve") {
    await serve(process.argv[3] as Variant, process.env["BENCH_KEY"] ?? "");
    return;
  }
  const privateKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  if (MODE === "saturate") {
    await saturationMain(privateKey);
    return;
  }
  // Rounds alternate the apps so a noisy neighbour hurts both alike; the median round is reported.
  const rounds: { bare: Latency; octoflow: Latency; memory?: Latency }[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const bare = await measure("bare", privateKey);
    const octoflow = await measure("octoflow", privateKey);
    rounds.push({ bare, octoflow, ...(MEMORY ? { memory: await measure("octoflow-memory", privateKey) } : {}) });
  }
  const ratio = (a: number, b: number) => (b === 0 ? a : a / b);
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  const row = (name: string, r: Latency) => `| ${name} | ${r.total} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.max)} |`;
  console.log(`Webhook acknowledgement latency, ${RATE} signed deliveries/s for ${DURATION} s (${LOAD} load, 10 connections), ${ROUNDS} round(s)\n`);
  console.log("| round | app | deliveries | p50 | p99 | max |");
  console.log("|---|---|---|---|---|---|");
  rounds.forEach((r, i) => {
    console.log(`| ${i + 1} ${row("bare Probot", r.bare)}`);
    console.log(`| ${i + 1} ${row("Octoflow (SQLite store)", r.octoflow)}`);
    if (r.memory) console.log(`| ${i + 1} ${row("Octoflow (in-memory store)", r.memory)}`);
  });
  const medianOf = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const p50 = medianOf(rounds.map((r) => ratio(r.octoflow.p50, r.bare.p50)));
  const p99 = medianOf(rounds.map((r) => ratio(r.octoflow.p99, r.bare.p99)));
  console.log(`\nmedian ratio p50 Octoflow/bare = ${p50.toFixed(2)} (target ≤ 1.3) ${p50 <= 1.3 ? "OK" : "MISSED"}`);
  console.log(`median ratio p99 Octoflow/bare = ${p99.toFixed(2)} (target ≤ 1.3) ${p99 <= 1.3 ? "OK" : "MISSED"}`);
  if (MEMORY) {
    const m50 = medianOf(rounds.map((r) => ratio(r.memory?.p50 ?? 0, r.bare.p50)));
    const m99 = medianOf(rounds.map((r) => ratio(r.memory?.p99 ?? 0, r.bare.p99)));
    console.log(`with the in-memory store: median ratio p50 ${m50.toFixed(2)}, p99 ${m99.toFixed(2)}`);
  }
}

await main();

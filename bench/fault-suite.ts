/**
 * The fault suite (issue 14), large: the real app process (`node src/main.ts`) on SQLite against the
 * fake GitHub (OpenAPI-validated, behind a fault-injecting proxy) and the fake model server, over
 * HTTP with signed webhooks. Prints one table of figures:
 *   a. kill -9 at random points of N label runs, restarted on the same database each time;
 *   c. 20 % of GitHub writes answered 502 or a secondary rate limit (403 + retry-after);
 *   e. mutated webhook deliveries (no sender, wrong types, `__proto__` events, null/""/42 bodies):
 *      the 5xx count; and the worst /healthz latency while hostile `.github/octoflow.yml` files
 *      (20k / 40k / 100k keys) are processed.
 * Run: `node bench/fault-suite.ts` (20 runs each) or `QUICK=1 node bench/fault-suite.ts` (6).
 * Write pacing is off (`OCTOFLOW_GITHUB_THROTTLE=off`) and the queue lease is 2 s so a restart
 * resumes at once; with the defaults a restart waits up to 30 s for the dead process's lease.
 */
import { allFinished, seededRandom, startFaultWorld, type FaultWorld, type Outcome } from "../test/reliability/fault-world.ts";
import { examplePayloads } from "../test/github/app-harness.ts";

const QUICK = process.env.QUICK === "1";
const RUNS = QUICK ? 6 : 20;
const rows: [string, string][] = [];

function settle(world: FaultWorld, runs: number): Promise<Outcome> {
  return world
    .waitFor(allFinished(runs), 300_000)
    .then(() => world.waitFor(() => world.outcome().checksCompleted >= runs, 30_000).catch(() => undefined))
    .then(() => world.outcome());
}

function report(name: string, o: Outcome, expected: number, extra = "") {
  rows.push([`${name}: runs finished / total`, `${o.finished} / ${expected}${o.succeeded !== o.finished ? ` (${o.succeeded} succeeded)` : ""}`]);
  rows.push([`${name}: PRs delivered once / expected`, `${o.prsOnce} / ${expected}`]);
  rows.push([`${name}: check runs completed / expected`, `${o.checksCompleted} / ${expected}`]);
  rows.push([`${name}: duplicates (PRs, check runs, comments)`, `${o.prDuplicates}, ${o.checkDuplicates}, ${o.commentDuplicates}${extra}`]);
}

async function kills(): Promise<void> {
  const world = await startFaultWorld({ issues: RUNS, chunkDelayMs: 30 });
  const random = seededRandom(2026);
  try {
    for (let n = 1; n <= RUNS; n++) {
      if ((await world.label(n)) !== 200) throw new Error(`label ${n} not acknowledged`);
      await new Promise((r) => setTimeout(r, Math.floor(random() * 4000)));
      await world.restart();
    }
    report(`a. kill -9 ×${RUNS}, SQLite`, await settle(world, RUNS), RUNS);
    if (world.gh.failures.length > 0) rows.push(["a. requests GitHub would refuse", String(world.gh.failures.length)]);
  } finally {
    await world.close();
  }
}

async function writeFaults(): Promise<void> {
  const world = await startFaultWorld({ issues: RUNS, chunkDelayMs: 5, faults: { rate: 0.2, seed: 14 } });
  try {
    for (let n = 1; n <= RUNS; n++) await world.label(n);
    const o = await settle(world, RUNS);
    const { status5xx, secondaryLimit } = world.proxy.injected;
    report("c. 20 % of writes faulted", o, RUNS, ` (${status5xx} × 502, ${secondaryLimit} × secondary limit injected)`);
  } finally {
    await world.close();
  }
}

/** Signed deliveries whose payloads are real examples with fields broken, plus junk bodies. */
export async function mutations(): Promise<{ event: string; body: string }[]> {
  const out: { event: string; body: string }[] = [];
  const breakers: ((p: Record<string, unknown>) => void)[] = [
    (p) => delete p.sender,
    (p) => (p.sender = 42),
    (p) => delete p.repository,
    (p) => (p.installation = { id: "one" }),
    (p) => (p.action = 42),
    (p) => {
      const issue = p.issue as Record<string, unknown> | undefined;
      if (issue) issue.number = "one";
      const comment = p.comment as Record<string, unknown> | undefined;
      if (comment) comment.body = 42;
    },
    (p) => {
      const label = p.label as Record<string, unknown> | undefined;
      if (label) label.name = 42;
      const pr = p.pull_request as Record<string, unknown> | undefined;
      if (pr) pr.head = null;
    },
  ];
  for (const event of ["issues", "issue_comment", "pull_request", "check_run", "installation"]) {
    for (const example of (await examplePayloads(event)).slice(0, 4)) {
      for (const breaker of breakers) {
        const p = structuredClone(example);
        breaker(p);
        out.push({ event, body: JSON.stringify(p) });
      }
    }
  }
  for (const body of ["null", '""', "42", "[]", "{}", "{", '{"__proto__":{"polluted":true}}']) {
    for (const event of ["issues", "__proto__", "constructor", "issue_comment"]) out.push({ event, body });
  }
  return out;
}

async function hostile(): Promise<void> {
  const world = await startFaultWorld({ issues: 4 });
  try {
    const deliveries = await mutations();
    const statuses = new Map<number, number>();
    for (const d of deliveries) {
      const status = await world.deliver(d.event, d.body).catch(() => 599);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    const fivexx = [...statuses].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0);
    rows.push(["e. mutated deliveries: 5xx / sent", `${fivexx} / ${deliveries.length} (${[...statuses].map(([s, c]) => `${c} × ${s}`).join(", ")})`]);
    if (world.app().child.exitCode !== null) rows.push(["e. app process after mutated deliveries", "EXITED"]);
  } finally {
    await world.close();
  }
  for (const keys of [20_000, 40_000, 100_000]) {
    const yaml = Array.from({ length: keys }, (_, i) => `k${i}: ${i}`).join("\n") + "\n";
    const w = await startFaultWorld({ issues: 1, files: { ".github/octoflow.yml": yaml } });
    try {
      let worst = 0;
      let probing = true;
      const probe = (async () => {
        while (probing) {
          const t0 = performance.now();
          const res = await fetch(`${w.app().baseUrl}/healthz`, { signal: AbortSignal.timeout(120_000) });
          await res.arrayBuffer();
          worst = Math.max(worst, performance.now() - t0);
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const t0 = performance.now();
      const status = await w.label(1);
      // the config is read when the delivery is processed: wait for the run to be refused or finish
      await w.waitFor((runs) => runs.length > 0 || performance.now() - t0 > 15_000, 20_000).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 1000));
      probing = false;
      await probe;
      rows.push([`e. worst /healthz latency, config with ${keys / 1000}k keys (${(yaml.length / 1e6).toFixed(2)} MB)`, `${worst.toFixed(0)} ms (delivery ${status}, runs ${w.runs().length})`]);
    } finally {
      await w.close();
    }
  }
}

const started = performance.now();
await kills();
await writeFaults();
await hostile();
const width = Math.max(...rows.map(([k]) => k.length));
console.log(`\nfault suite (${QUICK ? "QUICK, " : ""}${RUNS} runs per scenario, ${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
console.log(`| ${"figure".padEnd(width)} | value |`);
console.log(`|${"-".repeat(width + 2)}|-------|`);
for (const [k, v] of rows) console.log(`| ${k.padEnd(width)} | ${v} |`);

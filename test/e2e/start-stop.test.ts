/**
 * The process edges of `node src/main.ts`: a database that cannot be reached fails start-up with one
 * readable line and exit code 1 in bounded time; a signal shuts the app down through our own
 * handler (workers stopped, store closed) rather than Probot's, which exits before either.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runApp, spawnApp } from "../helpers/spawn-app.ts";

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const CREDENTIALS = {
  APP_ID: "4242",
  PRIVATE_KEY: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
  WEBHOOK_SECRET: "test-webhook-secret",
  NODE_ENV: "production",
  OPENAI_API_KEY: "sk-test-not-used",
};

describe("start-up with an unreachable database", () => {
  it("nothing listens: one readable line, exit code 1, within seconds", async () => {
    const started = Date.now();
    const { code, stdout, stderr } = await runApp({ ...CREDENTIALS, PORT: "39871", DATABASE_URL: "postgres://127.0.0.1:1/x" }, 15_000);
    expect(code).toBe(1);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(stderr).toMatch(/^octoflow: start-up failed: cannot open the PostgreSQL store .*ECONNREFUSED 127\.0\.0\.1:1\n$/);
    expect(stderr + stdout).not.toMatch(/\n\s+at /); // no stack trace
  }, 20_000);

  const sockets = new Set<Socket>();
  let silent: Server | undefined;
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => (silent ? silent.close(resolve) : resolve(undefined)));
  });

  it("a server that accepts but never answers: exit code 1 instead of hanging", async () => {
    silent = createServer((socket) => sockets.add(socket));
    const port = await new Promise<number>((resolve) =>
      silent!.listen(0, "127.0.0.1", () => resolve((silent!.address() as { port: number }).port)),
    );
    const { code, stdout, stderr } = await runApp({ ...CREDENTIALS, PORT: "39872", DATABASE_URL: `postgres://127.0.0.1:${port}/x` }, 25_000);
    expect(code).toBe(1); // null when the child had to be killed: start-up hung
    expect(stderr).toMatch(/^octoflow: start-up failed: cannot open the PostgreSQL store .*timeout/);
    expect(stderr + stdout).not.toMatch(/\n\s+at /);
  }, 30_000);
});

describe("shutdown on a signal", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "octoflow-stop-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`${signal}: our handler stops the workers and closes the store, then exits 0`, async () => {
      const app = await spawnApp({ ...CREDENTIALS, LOG_LEVEL: "info", DATABASE_URL: `sqlite:${join(dataDir, `${signal}.db`)}` });
      try {
        const exited = new Promise<number | null>((resolve) => app.child.once("exit", (code) => resolve(code)));
        app.child.kill(signal);
        expect(await exited).toBe(0);
        const out = app.output();
        expect(out).toContain('"msg":"shutting down"');
        expect(out).toContain('"msg":"shut down"'); // every closer ran before the exit
        expect(out).not.toContain("Stopping server..."); // Probot's own SIGINT handler did not run
      } finally {
        await app.stop();
      }
    }, 30_000);
  }
});

/**
 * Spawns and drives replicas (`worker-process.ts` child processes) for the multi-replica tests and
 * the scale benchmarks. Everything is bounded: a replica that does not answer in time is killed.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { FleetCommand, FleetReply } from "./worker-process.ts";

const WORKER_SCRIPT = fileURLToPath(new URL("./worker-process.ts", import.meta.url));

type Command = FleetCommand extends infer C ? (C extends { id: number } ? Omit<C, "id"> : never) : never;

export interface Replica {
  readonly name: string;
  readonly child: ChildProcess;
  /** Sends a command and resolves with its reply (rejects on an error reply, exit or timeout). */
  request(command: Command, timeoutMs?: number): Promise<FleetReply>;
  /** Resolves with the exit code / signal when the process ends. */
  readonly exited: Promise<string>;
}

export interface ReplicaOptions {
  url: string;
  schema: string;
  name: string;
  concurrency: number;
  latencyMs: number;
  heartbeatSeconds?: number;
}

/**
 * Starts a replica and waits (at most `readyTimeoutMs`) until its workers run.
 *
 * @example
 * const replicas = await Promise.all(["r1", "r2", "r3"].map((name) => spawnReplica({ url, schema, name, concurrency: 8, latencyMs: 50 })));
 */
export async function spawnReplica(options: ReplicaOptions, readyTimeoutMs = 60_000): Promise<Replica> {
  const child = fork(WORKER_SCRIPT, [], {
    execPath: process.execPath,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    env: {
      ...process.env,
      OCTOFLOW_TEST_DATABASE_URL: options.url,
      SCALE_SCHEMA: options.schema,
      SCALE_WORKER: options.name,
      SCALE_CONCURRENCY: String(options.concurrency),
      SCALE_LATENCY_MS: String(options.latencyMs),
      SCALE_HEARTBEAT_SECONDS: String(options.heartbeatSeconds ?? 10),
    },
  });
  const exited = new Promise<string>((resolve) => child.once("exit", (code, signal) => resolve(signal ?? String(code))));
  const pending = new Map<number, { resolve: (r: FleetReply) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  child.on("message", (reply: FleetReply) => {
    if (!("id" in reply)) return;
    const waiter = pending.get(reply.id);
    pending.delete(reply.id);
    if (reply.type === "error") waiter?.reject(new Error(`${options.name}: ${reply.message}`));
    else waiter?.resolve(reply);
  });
  void exited.then((how) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${options.name} exited (${how})`));
    pending.clear();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${options.name} was not ready within ${readyTimeoutMs} ms`));
    }, readyTimeoutMs);
    const onMessage = (reply: FleetReply) => {
      if (reply.type !== "ready") return;
      clearTimeout(timer);
      child.off("message", onMessage);
      resolve();
    };
    child.on("message", onMessage);
    void exited.then((how) => {
      clearTimeout(timer);
      reject(new Error(`${options.name} exited before it was ready (${how})`));
    });
  });
  return {
    name: options.name,
    child,
    exited,
    request(command, timeoutMs = 60_000) {
      const id = nextId++;
      return new Promise<FleetReply>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${options.name} did not answer ${command.type} within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (r) => (clearTimeout(timer), resolve(r)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
        child.send({ ...command, id } as FleetCommand);
      });
    },
  };
}

/**
 * Starts several replicas at once (they race on migrations and the pg-boss install, as a real
 * rollout does); if one fails, the others are killed before the error is rethrown.
 */
export async function spawnFleet(names: readonly string[], options: Omit<ReplicaOptions, "name">): Promise<Replica[]> {
  const settled = await Promise.allSettled(names.map((name) => spawnReplica({ ...options, name })));
  const failed = settled.find((s) => s.status === "rejected");
  if (failed) {
    for (const s of settled) if (s.status === "fulfilled") s.value.child.kill("SIGKILL");
    throw failed.reason;
  }
  return settled.map((s) => (s as PromiseFulfilledResult<Replica>).value);
}

/**
 * Stops replicas gracefully (bounded), killing any that do not stop in time — also one that
 * answered "stopped" but does not exit, so no replica outlives the test file.
 */
export async function stopReplicas(replicas: readonly Replica[], timeoutMs = 30_000): Promise<void> {
  await Promise.all(
    replicas.map(async (replica) => {
      if (replica.child.exitCode !== null || replica.child.signalCode !== null) return;
      const deadline = Date.now() + timeoutMs;
      try {
        await replica.request({ type: "stop" }, timeoutMs);
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), Math.max(0, deadline - Date.now()))));
        const how = await Promise.race([replica.exited, late]);
        clearTimeout(timer);
        if (how === "late") replica.child.kill("SIGKILL");
      } catch {
        replica.child.kill("SIGKILL");
      }
      await replica.exited;
    }),
  );
}

/** Polls `check` every `everyMs` until it returns true; throws after `limit` tries. */
export async function waitFor(check: () => Promise<boolean> | boolean, limit: number, everyMs = 200): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`condition not reached after ${limit} checks`);
}

/** The fleet helpers themselves: a replica never outlives the test file. No database needed. */
import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { stopReplicas, type Replica } from "./fleet.ts";

/** A "replica" that answers every request but keeps running (a hung shutdown). */
function stuckReplica(): Replica {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  const exited = new Promise<string>((resolve) => child.once("exit", (code, signal) => resolve(signal ?? String(code))));
  return { name: "stuck", child, exited, request: async () => ({ type: "stopped", id: 1 }) as never };
}

describe("stopReplicas", () => {
  let replica: Replica | undefined;
  // runs even when the test times out (a timed-out test body never reaches its own finally)
  afterEach(() => void replica?.child.kill("SIGKILL"));

  it("kills a replica that answered the stop but does not exit, within the timeout", async () => {
    replica = stuckReplica();
    const started = Date.now();
    await stopReplicas([replica], 500);
    expect(await replica.exited).toBe("SIGKILL");
    expect(Date.now() - started).toBeLessThan(5_000);
  }, 10_000);
});

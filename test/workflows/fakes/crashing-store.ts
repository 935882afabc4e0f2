/**
 * Wraps a RunStore and "crashes" after N writes: that write and every later call throw, as if the
 * process had died at that point. The wrapped store keeps exactly what was written before.
 */
import type { RunStore } from "../../../src/workflows/ports.ts";

const WRITES = new Set(["createRun", "updateRun", "transitionRun", "finishRun", "updateStep", "appendEvent", "enqueueJob", "completeJob", "renewJob", "claimJob"]);

export class SimulatedCrash extends Error {
  override readonly name = "SimulatedCrash";
}

export function crashingStore(inner: RunStore, writesBeforeCrash: number): { store: RunStore; writes(): number; crashed(): boolean } {
  let writes = 0;
  let crashed = false;
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        if (crashed) throw new SimulatedCrash("process is gone");
        if (WRITES.has(String(property))) {
          if (writes >= writesBeforeCrash) {
            crashed = true;
            throw new SimulatedCrash(`crashed before write #${writes + 1} (${String(property)})`);
          }
          writes++;
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store, writes: () => writes, crashed: () => crashed };
}

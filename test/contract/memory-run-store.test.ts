import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import { runStoreContract } from "./run-store.contract.ts";

runStoreContract("memory", async () => {
  const store = createMemoryRunStore();
  return { store, cleanup: () => store.close() };
});

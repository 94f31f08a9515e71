import { createMemoryStore } from "@countersign/server";
import { describeStoreContract } from "./store-contract.js";

describeStoreContract("memory", async (clock) => {
  const store = createMemoryStore({ clock });
  return { store, clock, dispose: () => store.close() };
});

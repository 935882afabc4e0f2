/**
 * The webhook inbox (D13): the acknowledgement writes one inbox row and asks GitHub nothing; the
 * worker processes each delivery once, retries a transient failure, and resumes a delivery whose
 * worker died.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createWebhookInbox } from "../../src/queue/webhook-inbox.ts";
import { runIdForDelivery } from "../../src/github/run-control.ts";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import type { InboxDelivery } from "../../src/workflows/ports.ts";
import { example, startHarness, type Harness } from "./app-harness.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

type Json = Record<string, unknown>;
const sender = (login: string) => ({ login, id: 1, node_id: "U", type: "User", site_admin: false, avatar_url: "", url: "", html_url: "" });
const labeled = (label: string) =>
  example("issues", "labeled", (p) => {
    (p.label as Json).name = label;
    (p.issue as Json).number = 7;
    (p.issue as Json).state = "open";
    p.sender = sender("alice");
  });
const until = async (condition: () => Promise<boolean> | boolean, what: string) => {
  for (let i = 0; !(await condition()); i++) {
    if (i > 800) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe("webhook inbox: the acknowledgement", () => {
  it("stores the delivery with one write and asks GitHub nothing; the worker then starts the run once", async () => {
    h = await startHarness({});
    await h.runtime.inbox.stop(); // only the test processes deliveries here
    await h.probot.receive({ id: "d-ack", name: "issues", payload: await labeled("octoflow") } as never);
    await h.probot.receive({ id: "d-ack", name: "issues", payload: await labeled("octoflow") } as never); // redelivered
    expect(h.gh.requests).toEqual([]);
    expect(await h.store.listRuns()).toEqual([]);
    expect(await h.runtime.inbox.drain()).toEqual([]);
    const runs = await h.store.listRuns();
    expect(runs.map((r) => r.id)).toEqual([runIdForDelivery("d-ack")]);
    expect(h.gh.find("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission")).toHaveLength(1);
    expect(await h.runtime.inbox.drain()).toEqual([]); // nothing left: processed once
    expect(await h.store.listRuns()).toHaveLength(1);
    h.gh.verify();
  });

  it("a comment without /octoflow and a label on a closed issue are answered without a write", async () => {
    h = await startHarness({});
    await h.runtime.inbox.stop();
    const chatter = await example("issue_comment", "created", (p) => {
      (p.comment as Json).body = "thanks, looks good";
      p.sender = sender("alice");
    });
    const closed = await example("issues", "labeled", (p) => {
      (p.issue as Json).state = "closed";
      (p.label as Json).name = "octoflow";
    });
    await h.probot.receive({ id: "d-chat", name: "issue_comment", payload: chatter } as never);
    await h.probot.receive({ id: "d-closed", name: "issues", payload: closed } as never);
    // nothing was stored: the same ids are still new to the inbox
    expect(await h.store.acceptDelivery({ id: "d-chat", name: "issue_comment", payload: "{}" }, Date.now())).toBe(true);
    expect(await h.store.acceptDelivery({ id: "d-closed", name: "issues", payload: "{}" }, Date.now())).toBe(true);
    expect(h.gh.requests).toEqual([]);
  });

  it("a transient failure while gating (permission lookup 502) is retried from the inbox, not dropped", async () => {
    h = await startHarness({});
    h.gh.expect("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission", () => ({ status: 502, body: { message: "Bad gateway" } }), { times: 1 });
    await h.runtime.inbox.stop(); // the first attempt is the test's own
    await expect(h.receive("issues", await labeled("octoflow"), "d-502")).rejects.toThrow();
    expect(await h.store.listRuns()).toEqual([]);
    // the inbox worker retries after its backoff (1 s) and the run starts
    h.runtime.inbox.start();
    await until(async () => (await h!.store.listRuns()).length === 1, "the retried delivery to start its run");
    expect((await h.store.listRuns())[0]?.id).toBe(runIdForDelivery("d-502"));
    expect(h.gh.find("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission")).toHaveLength(2);
    h.gh.verify();
  });
});

describe("webhook inbox: the worker", () => {
  const delivery = (id: string) => ({ id, name: "issues", payload: JSON.stringify({ id }) });

  it("processes every accepted delivery once, at most `concurrency` at a time", async () => {
    const store = createMemoryRunStore();
    const seen: string[] = [];
    let running = 0;
    let most = 0;
    const inbox = createWebhookInbox({
      store,
      concurrency: 2,
      pollMs: 3_600_000,
      process: async (d) => {
        running += 1;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 2));
        seen.push(d.id);
        running -= 1;
      },
    });
    inbox.start();
    for (let i = 0; i < 10; i++) {
      await store.acceptDelivery(delivery(`d${i}`), Date.now());
      inbox.notify();
    }
    await store.acceptDelivery(delivery("d3"), Date.now()); // a redelivery is refused at the door
    await until(() => seen.length === 10, "ten deliveries");
    await inbox.stop();
    expect([...seen].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `d${i}`).sort());
    expect(most).toBe(2);
    expect(await store.claimDelivery("other", Date.now() + 3_600_000, 1000)).toBeUndefined();
  });

  it("a delivery whose worker died mid-processing is processed again once its lease runs out", async () => {
    const store = createMemoryRunStore();
    await store.acceptDelivery(delivery("d-crash"), 1_000);
    expect((await store.claimDelivery("dead-worker", 1_000, 50))?.id).toBe("d-crash"); // then the process died
    const seen: InboxDelivery[] = [];
    const inbox = createWebhookInbox({ store, pollMs: 10, process: async (d) => void seen.push(d) });
    inbox.start();
    await until(() => seen.length === 1, "the orphaned delivery");
    await inbox.stop();
    expect(seen[0]).toMatchObject({ id: "d-crash", attempts: 2 });
  });

  it("gives up after maxAttempts, with backoff between attempts", async () => {
    const store = createMemoryRunStore();
    await store.acceptDelivery(delivery("d-bad"), Date.now());
    let attempts = 0;
    const inbox = createWebhookInbox({
      store,
      retryMs: 1,
      maxAttempts: 3,
      pollMs: 5,
      process: async () => {
        attempts += 1;
        throw new Error("always");
      },
    });
    expect(await inbox.drain()).toHaveLength(1);
    inbox.start();
    await until(() => attempts === 3, "three attempts");
    await new Promise((resolve) => setTimeout(resolve, 30));
    await inbox.stop();
    expect(attempts).toBe(3);
    expect(await store.claimDelivery("x", Date.now() + 60_000, 1000)).toBeUndefined();
  });
});

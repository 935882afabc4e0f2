import { AsyncLocalStorage } from "node:async_hooks";
import { context, propagation, ROOT_CONTEXT, trace, type Context, type ContextManager, type TextMapPropagator } from "@opentelemetry/api";
import { afterEach, describe, expect, it } from "vitest";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import { workflow } from "../../src/workflows/builder.ts";
import { createEngine } from "../../src/workflows/engine.ts";
import { planRun } from "../../src/workflows/plan.ts";
import { createScriptedAgent } from "./fakes/scripted-agent.ts";
import { issueTrigger } from "./fakes/triggers.ts";

/** A minimal W3C `traceparent` propagator (the SDK's is registered by the app at start-up). */
const traceparent: TextMapPropagator = {
  inject(ctx, carrier, setter) {
    const span = trace.getSpanContext(ctx);
    if (span) setter.set(carrier, "traceparent", `00-${span.traceId}-${span.spanId}-01`);
  },
  extract(ctx, carrier, getter) {
    const value = getter.get(carrier, "traceparent");
    const match = typeof value === "string" ? /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(value) : null;
    return match ? trace.setSpanContext(ctx, { traceId: match[1] ?? "", spanId: match[2] ?? "", traceFlags: 1, isRemote: true }) : ctx;
  },
  fields: () => ["traceparent"],
};

/** A minimal AsyncLocalStorage context manager (the app registers the SDK's). */
function asyncContextManager(): ContextManager {
  const storage = new AsyncLocalStorage<Context>();
  return {
    active: () => storage.getStore() ?? ROOT_CONTEXT,
    with: (ctx, fn, thisArg, ...args) => storage.run(ctx, () => fn.call(thisArg, ...args)),
    bind: (_ctx, target) => target,
    enable() {
      return this;
    },
    disable() {
      storage.disable();
      return this;
    },
  };
}

afterEach(() => {
  propagation.disable();
  context.disable();
});

describe("trace context", () => {
  it("is stored on the run at start and active while its steps run", async () => {
    propagation.setGlobalPropagator(traceparent);
    context.setGlobalContextManager(asyncContextManager());
    const store = createMemoryRunStore();
    let seen: string | undefined;
    const agents = createScriptedAgent();
    const engine = createEngine({
      store,
      agents: {
        run: (request) => {
          seen = trace.getSpanContext(context.active())?.traceId;
          return agents.run(request);
        },
      },
    });
    const parent = trace.setSpanContext(context.active(), { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", traceFlags: 1 });
    const plan = planRun(workflow("traced").step({ id: "a", role: "generate", prompt: "x" }).build(), issueTrigger());
    const run = await context.with(parent, () => engine.start(plan, issueTrigger()));
    expect(run.traceContext).toEqual({ traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" });
    expect((await store.getRun(run.id))?.traceContext).toEqual(run.traceContext);
    await engine.execute(run.id, new AbortController().signal);
    expect(seen).toBe("0af7651916cd43dd8448eb211c80319c");
  });
});

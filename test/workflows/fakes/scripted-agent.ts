/**
 * A scripted AgentRunner: per step id, a list of behaviours consumed one per attempt (the last one
 * repeats). It records every call, tracks how many steps run at once, and honours the abort signal
 * like a real provider call.
 */
import type { AgentRequest, AgentRunner } from "../../../src/workflows/ports.ts";
import type { StepOutput } from "../../../src/workflows/types.ts";

export type Behaviour =
  | { kind: "succeed"; text?: string; tokens?: number; costUsd?: number; progress?: string[] }
  | { kind: "fail"; error: Error }
  /** Waits until `release(stepId)` is called (or the signal aborts). */
  | { kind: "block"; text?: string }
  /** Never settles and ignores the abort signal (a misbehaving backend). */
  | { kind: "hang" };

export interface AgentCall {
  stepId: string;
  attempt: number;
  prompt: string;
  upstream: string[];
  model: string | undefined;
  signal: AbortSignal;
}

export interface ScriptedAgent extends AgentRunner {
  calls: AgentCall[];
  /** Most calls in flight at once (across runs). */
  maxConcurrent: number;
  /** Calls in flight now (across runs). */
  inFlight: number;
  /** Step ids with a call in flight (meaningful for one run at a time). */
  running: Set<string>;
  callsOf(stepId: string): AgentCall[];
  release(stepId: string): void;
  /** Resolves once `stepId` has started `count` attempts in total. */
  started(stepId: string, count?: number): Promise<void>;
}

export function output(text: string, tokens = 10, costUsd = 0.01): StepOutput {
  return { text, usage: { inputTokens: tokens, outputTokens: tokens, cachedTokens: 0 }, costUsd };
}

export function createScriptedAgent(script: Record<string, Behaviour[]> = {}): ScriptedAgent {
  const releases = new Map<string, (() => void)[]>();
  const waiters: { stepId: string; count: number; resolve: () => void }[] = [];
  const agent: ScriptedAgent = {
    calls: [],
    maxConcurrent: 0,
    inFlight: 0,
    running: new Set(),
    callsOf: (stepId) => agent.calls.filter((c) => c.stepId === stepId),
    release(stepId) {
      const list = releases.get(stepId) ?? [];
      releases.delete(stepId);
      for (const r of list) r();
    },
    started(stepId, count = 1) {
      if (agent.callsOf(stepId).length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ stepId, count, resolve }));
    },
    async run(request: AgentRequest) {
      const stepId = request.step.id;
      agent.calls.push({ stepId, attempt: request.attempt, prompt: request.prompt, upstream: Object.keys(request.upstream).sort(), model: request.step.model, signal: request.signal });
      for (const w of [...waiters]) {
        if (w.stepId === stepId && agent.callsOf(stepId).length >= w.count) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
      const list = script[stepId] ?? [{ kind: "succeed" }];
      const behaviour = list[Math.min(agent.callsOf(stepId).length - 1, list.length - 1)] ?? { kind: "succeed" };
      agent.running.add(stepId);
      agent.inFlight++;
      agent.maxConcurrent = Math.max(agent.maxConcurrent, agent.inFlight);
      try {
        await Promise.resolve();
        switch (behaviour.kind) {
          case "succeed":
            for (const tail of behaviour.progress ?? []) request.onProgress({ tokens: tail.length, tail });
            return output(behaviour.text ?? `${stepId} done`, behaviour.tokens, behaviour.costUsd);
          case "fail":
            throw behaviour.error;
          case "hang":
            return await new Promise<StepOutput>(() => {});
          case "block":
            await new Promise<void>((resolve, reject) => {
              if (request.signal.aborted) reject(request.signal.reason);
              request.signal.addEventListener("abort", () => reject(request.signal.reason), { once: true });
              releases.set(stepId, [...(releases.get(stepId) ?? []), resolve]);
            });
            return output(behaviour.text ?? `${stepId} done`);
        }
      } finally {
        agent.inFlight--;
        agent.running.delete(stepId);
      }
    },
  };
  return agent;
}

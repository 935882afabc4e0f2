/**
 * What the engine is built from: ports plus a few tunables. `resolveEngineDeps` fills the defaults.
 */
import { randomUUID } from "node:crypto";
import { pino, type Logger } from "pino";
import { DEFAULT_BACKOFF, type BackoffOptions } from "../resilience/backoff.ts";
import { nullSink } from "./compose-sinks.ts";
import { systemClock, type AgentRunner, type Clock, type ProgressSink, type Queue, type RunOutputs, type RunStore, type StepGates } from "./ports.ts";

/** A Prometheus-style counter or histogram, as much of it as the engine uses. */
interface Counter {
  inc(labels: Record<string, string>): void;
}
interface Histogram {
  observe(labels: Record<string, string>, value: number): void;
}

/** The metrics the engine records (`src/observability/metrics.ts` provides them). */
export interface EngineMetrics {
  steps: Counter;
  stepDuration: Histogram;
  stepRetries: Counter;
  runs: Counter;
  runDuration: Histogram;
  activeRuns: { inc(): void; dec(): void };
}

export interface EngineDeps {
  store: RunStore;
  agents: AgentRunner;
  /** Used to re-enqueue runs (retry, resume, a queued run whose turn came). Without it, jobs go straight to the store. */
  queue?: Queue;
  progress?: ProgressSink;
  /** Delivers a finished run's results (PR, review) before the run is recorded finished; none when absent. */
  outputs?: RunOutputs;
  /** Runs the steps that use no agent (`uses: ci`, `uses: command`); without it such steps fail with a clear error. */
  gates?: StepGates;
  /**
   * How long transient delivery failures are retried, counted from the first attempt and across restarts,
   * before the run fails (default 15 minutes).
   */
  deliveryDeadlineMs?: number;
  clock?: Clock;
  log?: Logger;
  metrics?: EngineMetrics;
  /** Steps of one run executing at the same time (default 4; a plan's `limits.stepConcurrency` wins). */
  stepConcurrency?: number;
  /** How often an executing run re-reads its row to notice a cancel from another process (default 500 ms). */
  cancelPollMs?: number;
  /** Retry backoff for steps. */
  backoff?: Partial<BackoffOptions>;
  /** Jitter source (tests pass a constant). */
  random?: () => number;
  /** Run id generator (default: random UUID). */
  newRunId?: () => string;
  /**
   * Least interval between persisted `step.progress` events of one step (default 1000 ms). A
   * synchronous sink sees every one; an asynchronous sink that is still busy gets only the newest.
   */
  progressPersistMs?: number;
  /**
   * How long a finished run waits for slow progress sinks (a GitHub write that never answers) before
   * its worker moves on (default 30 s, real time). The run's state is already stored by then.
   */
  sinkDrainMs?: number;
}

export interface ResolvedEngineDeps {
  store: RunStore;
  agents: AgentRunner;
  queue: Queue | undefined;
  progress: ProgressSink;
  outputs: RunOutputs | undefined;
  gates: StepGates | undefined;
  deliveryDeadlineMs: number;
  clock: Clock;
  log: Logger;
  metrics: EngineMetrics | undefined;
  stepConcurrency: number;
  cancelPollMs: number;
  backoff: BackoffOptions;
  random: () => number;
  newRunId: () => string;
  progressPersistMs: number;
  sinkDrainMs: number;
}

/** Fills the defaults of the engine's dependencies and checks the tunables. */
export function resolveEngineDeps(deps: EngineDeps): ResolvedEngineDeps {
  const stepConcurrency = deps.stepConcurrency ?? 4;
  if (!Number.isInteger(stepConcurrency) || stepConcurrency < 1) throw new RangeError("stepConcurrency must be a whole number ≥ 1");
  return {
    store: deps.store,
    agents: deps.agents,
    queue: deps.queue,
    progress: deps.progress ?? nullSink,
    outputs: deps.outputs,
    gates: deps.gates,
    deliveryDeadlineMs: deps.deliveryDeadlineMs ?? 15 * 60_000,
    clock: deps.clock ?? systemClock,
    log: deps.log ?? pino({ level: "silent" }),
    metrics: deps.metrics,
    stepConcurrency,
    cancelPollMs: deps.cancelPollMs ?? 500,
    backoff: { ...DEFAULT_BACKOFF, ...deps.backoff },
    random: deps.random ?? Math.random,
    newRunId: deps.newRunId ?? randomUUID,
    progressPersistMs: deps.progressPersistMs ?? 1000,
    sinkDrainMs: deps.sinkDrainMs ?? 30_000,
  };
}

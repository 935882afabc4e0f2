/**
 * Turns streamed text deltas into coalesced `onProgress({ tokens, tail })` calls: at most one per
 * `intervalMs` unless `maxChars` new characters piled up, with a bounded tail, so a slow consumer
 * never makes us buffer unbounded text. Consumer errors are swallowed (progress is best effort).
 */
import type { AgentProgress } from "../workflows/ports.ts";

export interface StreamProgressOptions {
  onProgress: (progress: AgentProgress) => void;
  now: () => number;
  /** Minimum time between two reports (default 250 ms). */
  intervalMs?: number;
  /** Report early once this many characters arrived since the last report (default 2,000). */
  maxChars?: number;
  /** Characters of tail kept and reported (default 2,000). */
  tailChars?: number;
}

export interface StreamProgress {
  /** Feeds one streamed delta. */
  text(delta: string): void;
  /** Reports a status line (e.g. a remote-agent log entry) right away. */
  message(message: string): void;
  /** Reports whatever is pending. */
  flush(): void;
  /** Tokens estimated so far (≈ chars / 4). */
  tokens(): number;
}

/** Creates a progress coalescer for one attempt. */
export function createStreamProgress(options: StreamProgressOptions): StreamProgress {
  const interval = options.intervalMs ?? 250;
  const maxChars = options.maxChars ?? 2_000;
  const tailChars = options.tailChars ?? 2_000;
  // per delta only a push and two additions: the tail string is built when a report goes out (or
  // when the pending deltas exceed twice the tail, which bounds memory), not on every delta
  let tail = "";
  let parts: string[] = [];
  let partsChars = 0;
  let chars = 0;
  let pending = 0;
  let last = Number.NEGATIVE_INFINITY;
  const settleTail = () => {
    if (parts.length === 0) return;
    const joined = parts.length === 1 ? parts[0]! : parts.join("");
    tail = partsChars >= tailChars ? joined.slice(-tailChars) : (tail + joined).slice(-tailChars);
    parts = [];
    partsChars = 0;
  };
  const emit = (message?: string) => {
    settleTail();
    pending = 0;
    last = options.now();
    try {
      options.onProgress({ tokens: Math.ceil(chars / 4), tail, ...(message === undefined ? {} : { message }) });
    } catch {
      // a failing progress consumer must not fail the model call
    }
  };
  return {
    text(delta) {
      if (delta === "") return;
      chars += delta.length;
      pending += delta.length;
      parts.push(delta);
      partsChars += delta.length;
      if (partsChars > 2 * tailChars) settleTail();
      if (pending >= maxChars || options.now() - last >= interval) emit();
    },
    message(message) {
      emit(message.slice(0, 500));
    },
    flush() {
      if (pending > 0) emit();
    },
    tokens: () => Math.ceil(chars / 4),
  };
}

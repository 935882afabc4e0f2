/**
 * Model prices in US dollars per million tokens, and the cost of a call. The defaults cover a few
 * common models; override or extend them through the runner's `prices` option (a price for
 * `<provider>:<model>` or for the bare model id). Unknown models cost 0 and are logged once.
 */
import type { Usage } from "../workflows/types.ts";

export interface ModelPrice {
  /** USD per million uncached input tokens. */
  input: number;
  /** USD per million output tokens. */
  output: number;
  /** USD per million cached input tokens (defaults to `input`). */
  cachedInput?: number;
}

export type PriceTable = Record<string, ModelPrice>;

/** Published list prices (USD / 1M tokens) at the time of writing; override for your contract. */
export const DEFAULT_PRICES: PriceTable = {
  "openai:gpt-4.1": { input: 2, cachedInput: 0.5, output: 8 },
  "openai:gpt-4.1-mini": { input: 0.4, cachedInput: 0.1, output: 1.6 },
  "openai:gpt-4.1-nano": { input: 0.1, cachedInput: 0.025, output: 0.4 },
  "openai:gpt-4o": { input: 2.5, cachedInput: 1.25, output: 10 },
  "openai:gpt-4o-mini": { input: 0.15, cachedInput: 0.075, output: 0.6 },
  "openai:o4-mini": { input: 1.1, cachedInput: 0.275, output: 4.4 },
  "openai:gpt-5": { input: 1.25, cachedInput: 0.125, output: 10 },
  "openai:gpt-5-mini": { input: 0.25, cachedInput: 0.025, output: 2 },
  "anthropic:claude-sonnet-4-5": { input: 3, cachedInput: 0.3, output: 15 },
  "anthropic:claude-sonnet-4-0": { input: 3, cachedInput: 0.3, output: 15 },
  "anthropic:claude-opus-4-1": { input: 15, cachedInput: 1.5, output: 75 },
  "anthropic:claude-haiku-4-5": { input: 1, cachedInput: 0.1, output: 5 },
  "anthropic:claude-3-5-haiku-latest": { input: 0.8, cachedInput: 0.08, output: 4 },
};

/** Finds the price for `provider:model` (exact, then the bare model id). */
export function priceFor(table: PriceTable, provider: string, model: string): ModelPrice | undefined {
  return table[`${provider}:${model}`] ?? table[model];
}

/**
 * Cost of one call. `usage.inputTokens` includes the cached ones (as providers report them);
 * cached tokens are charged at the cached rate.
 *
 * @example
 * costOf({ inputTokens: 1_000_000, outputTokens: 0, cachedTokens: 0 }, { input: 2, output: 8 }); // 2
 */
export function costOf(usage: Usage, price: ModelPrice | undefined): number {
  if (!price) return 0;
  const cached = Math.min(usage.cachedTokens, usage.inputTokens);
  const uncached = usage.inputTokens - cached;
  const cost = (uncached * price.input + cached * (price.cachedInput ?? price.input) + usage.outputTokens * price.output) / 1_000_000;
  return Math.round(cost * 1e8) / 1e8;
}

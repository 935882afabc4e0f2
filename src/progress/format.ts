/**
 * Durations and costs as every surface shows them (check run, sticky comment, terminal, `octoflow runs`,
 * dashboard): one rounding rule, two spacings.
 */

/**
 * `850 ms`, `12.3 s`, `2 m 0 s` (`compact`: `850ms`, `12.3s`, `2m00s`). Whole seconds are rounded
 * before minutes are split off, so 119.6 s is `2 m 0 s`, never `1 m 60 s`.
 *
 * @example
 * formatDuration(119_600); // "2 m 0 s"
 * formatDuration(245_000, { compact: true }); // "4m05s"
 */
export function formatDuration(ms: number, options: { compact?: boolean } = {}): string {
  const gap = options.compact ? "" : " ";
  if (ms < 1000) return `${Math.round(Math.max(0, ms))}${gap}ms`;
  if (ms < 59_950) return `${(ms / 1000).toFixed(1)}${gap}s`;
  const total = Math.round(ms / 1000);
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  return options.compact ? `${minutes}m${String(seconds).padStart(2, "0")}s` : `${minutes} m ${seconds} s`;
}

/**
 * `$0.0123` below a dollar (cheap model calls need the digits), `$1.50` above (`compact`: four digits
 * only below a cent); `zero` for nothing spent.
 *
 * @example
 * formatCost(0.00042); // "$0.0004"
 * formatCost(0.3, { compact: true }); // "$0.30"
 * formatCost(0, { zero: "–" }); // "–"
 */
export function formatCost(usd: number, options: { zero?: string; compact?: boolean } = {}): string {
  if (usd === 0) return options.zero ?? "$0";
  const fine = options.compact ? usd < 0.01 : usd < 1;
  return `$${fine ? usd.toFixed(4) : usd.toFixed(2)}`;
}

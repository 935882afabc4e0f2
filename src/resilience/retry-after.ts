/**
 * Parses the server's "try again later" hints: `retry-after-ms` (OpenAI, milliseconds) and
 * `retry-after` (seconds or an HTTP date). Returns milliseconds, or undefined when absent or garbage.
 *
 * @example
 * parseRetryAfter({ "retry-after": "2" }, Date.now()); // 2000
 */
export function parseRetryAfter(headers: Record<string, string | undefined> | undefined, now: number): number | undefined {
  if (!headers) return undefined;
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (typeof v === "string") lower[k.toLowerCase()] = v;
  const ms = lower["retry-after-ms"];
  if (ms !== undefined && /^\s*\d+(\.\d+)?\s*$/.test(ms)) return Math.max(0, Math.round(Number(ms)));
  const value = lower["retry-after"]?.trim();
  if (value === undefined || value === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.max(0, Math.round(Number(value) * 1000));
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

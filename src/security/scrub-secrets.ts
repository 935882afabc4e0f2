/**
 * The secret scrubber: every log line, rendered error, progress tail and text the bot writes to GitHub
 * passes through it. A leaf module (it imports nothing), so any layer may use it.
 */

/**
 * Secrets passed as URL query parameters (`/dashboard?token=…`, OAuth `code=`). Safe to apply to a
 * serialised JSON line: it never consumes quotes or backslashes.
 */
export const QUERY_SECRET = /([?&](?:token|access_token|client_secret|code|key|api_key|apikey|api-key)=)[^&#\s"'\\]+/gi;

/**
 * Patterns of secrets that may hide inside free text (error messages, URLs, provider answers).
 * Each match is replaced with `[REDACTED]` before the line is written.
 */
const SECRET_PATTERNS: RegExp[] = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g,
  /\bgh[pousr]_[A-Za-z0-9]{20,}\b/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,}\b/g,
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/g,
  /\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}\b/g,
  /\bv1\.[a-f0-9]{40}\b/g,
  /\bAIza[0-9A-Za-z_-]{35}\b/g,
  /(Bearer|token|Basic)\s+[A-Za-z0-9._~+/=-]{12,}/gi,
  /(x-access-token:)[^@\s]+@/g,
  /(postgres(?:ql)?:\/\/[^:\s/]+:)[^@\s]+@/g,
  QUERY_SECRET,
];

/** Replaces every known secret shape in a string with `[REDACTED]`. */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const pattern of SECRET_PATTERNS) {
    out = out.replace(pattern, (match: string, prefix?: unknown) =>
      typeof prefix === "string" && prefix.endsWith("=")
        ? `${prefix}[REDACTED]`
        : typeof prefix === "string" && /^(Bearer|token|Basic|x-access-token:|postgres)/i.test(prefix)
          ? `${prefix}${prefix.endsWith(":") ? "" : " "}[REDACTED]${match.endsWith("@") ? "@" : ""}`
          : "[REDACTED]",
    );
  }
  return out;
}

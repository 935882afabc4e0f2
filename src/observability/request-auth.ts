/**
 * Bearer-token authentication for the operator endpoints (dashboard API). Tokens are compared in
 * constant time (over SHA-256 digests, so the lengths never leak either).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(req: Pick<IncomingMessage, "headers">): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== "string") return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** Constant-time string equality. */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given, "utf8").digest();
  const b = createHash("sha256").update(expected, "utf8").digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}

/**
 * True when the request carries `Authorization: Bearer <expected>`.
 *
 * @example
 * if (!isAuthorized(req, env.DASHBOARD_TOKEN)) return sendJson(res, 401, { error: "unauthorized" });
 */
export function isAuthorized(req: Pick<IncomingMessage, "headers">, expected: string): boolean {
  const given = bearerToken(req);
  return given !== undefined && expected.length > 0 && tokensEqual(given, expected);
}

import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, scrubSecrets } from "../../src/observability/logger.ts";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { lines, destination: destination as unknown as NodeJS.WritableStream & { write(s: string): boolean } };
}

const GH_TOKEN = "ghs_16C7e42F292c6912E7710c838347Ae178B4a";
const OPENAI_KEY = "sk-proj-Abc123Def456Ghi789Jkl012Mno345";
const PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n-----END RSA PRIVATE KEY-----";
const WEBHOOK_SECRET = "whsec_9f8e7d6c5b4a39281706f5e4d3c2b1a0";

describe("logger redaction", () => {
  it("leaves no trace of tokens, keys, authorization headers or webhook secrets", () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: "trace", destination });
    log.info({ token: GH_TOKEN, headers: { authorization: `token ${GH_TOKEN}` } }, "installation token issued");
    log.info({ request: { headers: { authorization: `Bearer ${OPENAI_KEY}`, "x-api-key": OPENAI_KEY } } }, "calling provider");
    log.warn({ env: { PRIVATE_KEY: PEM, WEBHOOK_SECRET } }, "config loaded");
    log.info({ secret: WEBHOOK_SECRET, privateKey: PEM }, "webhook setup");
    log.error({ err: new Error(`request failed: Authorization: Bearer ${OPENAI_KEY}`) }, "provider error");
    log.info(`cloning https://x-access-token:${GH_TOKEN}@github.com/o/r.git`);
    log.child({ deliveryId: "d-1", event: "issues", repo: "o/r" }).info({ apiKey: OPENAI_KEY }, "child logger");
    const output = lines.join("");
    expect(lines).toHaveLength(7);
    for (const secret of [GH_TOKEN, OPENAI_KEY, "MIIEowIBAAKCAQEAu1SU1", WEBHOOK_SECRET]) {
      expect(output).not.toContain(secret);
    }
    expect(output).toContain("[REDACTED]");
    // structure survives: the child logger's fields are still there
    const child = JSON.parse(lines[6] ?? "{}") as Record<string, unknown>;
    expect(child).toMatchObject({ deliveryId: "d-1", event: "issues", repo: "o/r", apiKey: "[REDACTED]", msg: "child logger" });
  });

  it("scrubs secrets embedded in free text", () => {
    expect(scrubSecrets(`token ${GH_TOKEN} and ${OPENAI_KEY}`)).toBe("token [REDACTED] and [REDACTED]");
    expect(scrubSecrets("postgres://octoflow:hunter2@db:5432/x")).toBe("postgres://octoflow:[REDACTED]@db:5432/x");
    expect(scrubSecrets("nothing secret here")).toBe("nothing secret here");
  });
});

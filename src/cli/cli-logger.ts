/**
 * The CLI's logger: the app's pino logger (same redaction) writing one readable line per record to
 * stderr — `octoflow: warning: <message>: <error>` — instead of JSON. Level from LOG_LEVEL, `warn`
 * by default, so the engine's and the reporters' warnings (a 403 on the check run, a failed progress
 * write) reach the user and nothing else does.
 */
import { createLogger, type Logger } from "../observability/logger.ts";

const LEVEL_NAMES: Record<number, string> = { 10: "trace", 20: "debug", 30: "info", 40: "warning", 50: "error", 60: "fatal" };

/**
 * @example
 * const log = createCliLogger((text) => io.stderr(text), io.env.LOG_LEVEL);
 */
export function createCliLogger(write: (text: string) => void, level: string | undefined): Logger {
  return createLogger({
    level: level ?? "warn",
    destination: {
      write(line: string) {
        try {
          const record = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string }; error?: { message?: string } };
          const name = LEVEL_NAMES[record.level ?? 30] ?? "info";
          const cause = record.err?.message ?? record.error?.message;
          write(`octoflow: ${name}: ${record.msg ?? ""}${cause ? `: ${cause.split("\n")[0]}` : ""}\n`);
        } catch {
          write(line.endsWith("\n") ? line : `${line}\n`);
        }
      },
    },
  });
}

/**
 * vitest global setup: probes the outside services once and prints one line per missing one (its
 * tests are skipped), or fails the run when `OCTOFLOW_REQUIRE_SERVICES` asks for it.
 */
import { requiredServices, service, SERVICE_NAMES } from "./services.ts";

export default function setup(): void {
  const required = requiredServices();
  const missing = SERVICE_NAMES.map(service).filter((s) => s.missing !== undefined);
  const fatal = missing.filter((s) => required.has(s.name));
  if (fatal.length > 0) {
    throw new Error(`OCTOFLOW_REQUIRE_SERVICES=${process.env.OCTOFLOW_REQUIRE_SERVICES}: missing ${fatal.map((s) => `${s.name} (${s.missing})`).join("; ")}`);
  }
  for (const s of missing) process.stdout.write(`skipped: ${s.needs} — ${s.missing}\n`);
}

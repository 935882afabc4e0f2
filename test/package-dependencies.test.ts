/**
 * What `src/` imports is what package.json ships: every bare import of the application code names a
 * production dependency (a dev dependency or a package that is only present transitively would be
 * missing from an install with --omit=dev), and no production dependency goes unused.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { builtinModules } from "node:module";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : /\.(ts|mts|js|mjs)$/.test(entry.name) ? [join(dir, entry.name)] : [],
  );
}

/** Production dependencies loaded by name rather than imported (pino starts its transports by module name). */
const LOADED_BY_NAME: Record<string, string> = { "pino-pretty": "src/observability/logger.ts" };

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
const packageOf = (specifier: string) => specifier.split("/").slice(0, specifier.startsWith("@") ? 2 : 1).join("/");

function importedPackages(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of sourceFiles(join(ROOT, "src"))) {
    const text = readFileSync(file, "utf8");
    for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+["']([^"'.][^"']*)["']|import\(\s*["']([^"'.][^"']*)["']\s*\)/g)) {
      const specifier = match[1] ?? match[2] ?? "";
      if (specifier.startsWith("node:") || builtinModules.includes(specifier)) continue;
      found.set(packageOf(specifier), file.slice(ROOT.length + 1));
    }
  }
  return found;
}

describe("package.json dependencies", () => {
  it("declare every package src/ imports", () => {
    const undeclared = [...importedPackages()].filter(([name]) => !(name in pkg.dependencies)).map(([name, file]) => `${name} (${file})`);
    expect(undeclared).toEqual([]);
  });

  it("list no production dependency that src/ does not import", () => {
    const imported = importedPackages();
    const unused = Object.keys(pkg.dependencies).filter((name) => !imported.has(name) && !(name in LOADED_BY_NAME));
    expect(unused).toEqual([]);
    // and each of those is still loaded where it says
    for (const [name, file] of Object.entries(LOADED_BY_NAME)) expect(readFileSync(join(ROOT, file), "utf8"), `${name} in ${file}`).toContain(`"${name}"`);
  });
});

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { jsonSchemaFiles } from "../../src/config/json-schemas.ts";

const root = join(import.meta.dirname, "../..");

describe("committed JSON Schemas", () => {
  it("match the zod schemas (run `npm run schema:generate` when this fails)", () => {
    for (const [path, text] of Object.entries(jsonSchemaFiles())) {
      expect(readFileSync(join(root, path), "utf8"), `${path} is stale: run npm run schema:generate`).toBe(text);
    }
  });

  it("describe the template fields editors complete", () => {
    const schema = JSON.parse(jsonSchemaFiles()["schema/workflow.schema.json"] ?? "{}") as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(["name", "description", "on", "inputs", "concurrency", "roles", "steps"]));
    expect(schema.required).toEqual(expect.arrayContaining(["name", "steps"]));
  });
});

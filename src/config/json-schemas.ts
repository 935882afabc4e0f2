/**
 * Editor JSON Schemas generated from the zod schemas (D6). `npm run schema:generate` writes them
 * under `schema/`; a test fails when the committed files are stale.
 */
import { z } from "zod";
import { repoConfigSchema } from "./repo-config.ts";
import { workflowTemplateSchema } from "./template-schema.ts";

const BASE = "https://raw.githubusercontent.com/octoflow/octoflow/main/schema";

function render(schema: z.ZodType, id: string, title: string): string {
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return `${JSON.stringify({ ...json, $id: `${BASE}/${id}`, title }, null, 2)}\n`;
}

/**
 * The schema files, by path relative to the repository root.
 *
 * @example
 * for (const [path, text] of Object.entries(jsonSchemaFiles())) writeFileSync(path, text);
 */
export function jsonSchemaFiles(): Record<string, string> {
  return {
    "schema/workflow.schema.json": render(workflowTemplateSchema, "workflow.schema.json", "Octoflow workflow template"),
    "schema/octoflow-config.schema.json": render(repoConfigSchema, "octoflow-config.schema.json", "Octoflow repository configuration (.github/octoflow.yml)"),
  };
}

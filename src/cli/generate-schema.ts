/**
 * Writes the editor JSON Schemas under `schema/` (`npm run schema:generate`).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jsonSchemaFiles } from "../config/json-schemas.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
for (const [path, text] of Object.entries(jsonSchemaFiles())) {
  writeFileSync(join(root, path), text);
  console.log(`wrote ${path}`);
}

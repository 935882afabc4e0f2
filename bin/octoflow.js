#!/usr/bin/env node
/* global process, URL */
// Launcher. In a clone, Octoflow runs its TypeScript sources (src/) directly through Node's type
// stripping. An installed package has no src/: `npm pack` compiled it to JavaScript (dist/), because
// Node does not strip types inside node_modules. Either way it needs Node.js 22.19 or newer (undici 8,
// node:sqlite without a flag, type stripping by default); Node 24 LTS is what the project runs on.
import { existsSync } from "node:fs";

const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(
    `octoflow: Node.js ${process.versions.node} is too old. Octoflow needs Node.js 22.19 or newer (24 LTS recommended). ` +
      "Install it from https://nodejs.org or with your version manager (e.g. `nvm install 24`).\n",
  );
  process.exit(1);
}
const source = new URL("../src/cli/main.ts", import.meta.url);
const entry = existsSync(source) ? source : new URL("../dist/cli/main.js", import.meta.url);
const cli = await import(entry.href);
process.exitCode = await cli.main(process.argv.slice(2));

#!/usr/bin/env node
/* global process */
// Launcher: Octoflow is TypeScript run directly by Node's type stripping (Node ≥ 22.18; Node 24 LTS recommended).
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `octoflow: Node.js ${process.versions.node} is too old. Octoflow needs Node.js 24 LTS (or at least 22.18), ` +
      "which runs TypeScript directly. Install it from https://nodejs.org or with your version manager (e.g. `nvm install 24`).\n",
  );
  process.exit(1);
}
let cli;
try {
  cli = await import("../src/cli/main.ts");
} catch (error) {
  if (error?.code === "ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING") {
    process.stderr.write("octoflow: Node.js does not strip TypeScript types inside node_modules; run the CLI from a clone of Octoflow (npx octoflow …) or its container image.\n");
    process.exit(1);
  }
  throw error;
}
process.exitCode = await cli.main(process.argv.slice(2));

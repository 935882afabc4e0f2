/* global process */
// `npm install` in a clone: say once which Node runs what. npm itself runs on the system Node
// (npm_node_execpath); the npm scripts run on the Node 24 that the `node` dev dependency installs
// into node_modules/.bin. `.npmrc` keeps npm's warnings (one EBADENGINE block per package on an
// older system Node) off the first screen: `npm install --loglevel=warn` shows them.
import { execFileSync } from "node:child_process";

const scripts = process.version;
function systemNode() {
  try {
    return execFileSync(process.env.npm_node_execpath || "node", ["--version"], { encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}
const system = systemNode();
const major = Number(scripts.slice(1).split(".")[0]);
const line =
  major >= 24
    ? `octoflow: npm start, npm test and the other npm scripts run on Node ${scripts} from node_modules; npm itself runs on your system Node ${system}.`
    : `octoflow: the npm scripts run on Node ${scripts}, but Octoflow needs Node 24: the \`node\` dev dependency did not install (were install scripts disabled?). Run \`npm rebuild node\` or use Node 24.`;
process.stderr.write(`${line}\n`);

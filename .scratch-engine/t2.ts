import { loadBuiltinTemplates } from "../src/workflows/load-template.ts";
try { for (const t of loadBuiltinTemplates()) console.log(t.source, t.template.steps.map(s => s.id + ":" + s.needs.join(",")).join(" ")); } catch (e) { console.log(e.message); }

import { parseRepoConfig } from "/work/main/src/config/repo-config.ts";
import { workflowTemplateSchema } from "/work/main/src/config/template-schema.ts";
import { parseYamlWithSchema } from "/work/main/src/config/load-yaml.ts";
import { z } from "zod";
console.log(parseRepoConfig("", "x.yml"));
try { parseRepoConfig("review:\n  auto: yes\n  maxFile: 3\ntrust:\n  minPermission: root\nmodels:\n  default: gpt4\n", "cfg.yml"); } catch (e) { console.log(e.message); }
try { parseYamlWithSchema(workflowTemplateSchema, "name: x\nsteps:\n  - id: a\n    role: generate\n    prompt: hi\n    timeout: 10x\n    needs: [1]\n", "t.yml"); } catch (e) { console.log(e.message); }
console.log(JSON.stringify(parseYamlWithSchema(workflowTemplateSchema, "name: x\nsteps:\n  - id: a\n    role: generate\n    prompt: hi\n    timeout: 90\n    needs: b\n", "t.yml")));
try { parseYamlWithSchema(workflowTemplateSchema, "a: &a [1,2,3,4,5,6,7,8,9]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n", "bomb.yml"); } catch (e) { console.log(e.message); }
try { parseYamlWithSchema(workflowTemplateSchema, "a: 1\na: 2\n", "dup.yml"); } catch (e) { console.log(e.message); }
console.log(JSON.stringify(z.toJSONSchema(workflowTemplateSchema, { io: "input" })).slice(0, 300));

/**
 * The deployment files are code too: every PromQL query in the Grafana dashboard and the alert
 * rules must name a metric the app exports, the alert thresholds must match the in-process ones,
 * promtool must accept the rules and config (and their unit tests), and the Kubernetes manifests
 * must wire probes, resources and secrets the way the app expects.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse as load, parseAllDocuments } from "yaml";
import { createMetrics } from "../../src/observability/metrics.ts";
import { AGENT_NON_ERROR_OUTCOMES, DEFAULT_ALERT_THRESHOLDS } from "../../src/observability/alerts.ts";
import { envSchema } from "../../src/config/env.ts";
import { service, skipNote, skips } from "../helpers/services.ts";

/** Every document of a multi-document YAML stream; a syntax error fails the test. */
function loadAll(text: string): unknown[] {
  return parseAllDocuments(text).map((doc) => {
    if (doc.errors.length > 0) throw doc.errors[0];
    return doc.toJS() as unknown;
  });
}

type Json = Record<string, unknown>;
const read = (path: string) => readFileSync(path, "utf8");

/** Metric names the app exports: every registered metric (with histogram series suffixes) plus Prometheus' own `up`. */
async function exportedMetricNames(): Promise<Set<string>> {
  const metrics = createMetrics();
  const names = new Set<string>(["up"]);
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) names.add(metric.name + suffix);
  }
  return names;
}

const KEYWORDS = new Set(["and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "inf", "nan"]);

/** The metric names a PromQL expression selects (functions, keywords, labels, strings and ranges removed). */
function promqlMetricNames(expr: string): string[] {
  let s = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/'(?:[^'\\]|\\.)*'/g, "''");
  s = s.replace(/\$\{?\w+\}?/g, " 1 "); // Grafana variables such as $__rate_interval
  s = s.replace(/\{[^}]*\}/g, " ").replace(/\[[^\]]*\]/g, " ");
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, " ");
  const names: string[] = [];
  for (const m of s.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const before = s[m.index - 1] ?? " ";
    if (/[0-9.]/.test(before)) continue; // exponent or duration unit of a number
    if (s.slice(m.index + m[0].length).trimStart().startsWith("(")) continue; // a function call
    if (KEYWORDS.has(m[0].toLowerCase())) continue;
    names.push(m[0]);
  }
  return names;
}

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { expr: string; datasource?: Json }[];
  panels?: Panel[];
}

describe("PromQL metric extraction", () => {
  it("finds metric names and nothing else", () => {
    expect(
      promqlMetricNames(
        'histogram_quantile(0.95, sum by (le, role) (rate(octoflow_step_duration_seconds_bucket{outcome!~"a|b"}[$__rate_interval]))) > 1e3',
      ),
    ).toEqual(["octoflow_step_duration_seconds_bucket"]);
    expect(promqlMetricNames("max by (provider) (octoflow_circuit_breaker_state) == 2 and up offset 5m")).toEqual([
      "octoflow_circuit_breaker_state",
      "up",
    ]);
    expect(promqlMetricNames("sum(rate(octoflow_run_total[5m]))")).toEqual(["octoflow_run_total"]);
  });
});

describe("Grafana dashboard", () => {
  const dashboard = JSON.parse(read("deploy/grafana/octoflow.json")) as Json & { panels: Panel[]; uid: string; templating: { list: Json[] } };
  const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  const queries = panels.filter((p) => p.type !== "row");

  it("queries only metrics the app exports", async () => {
    const known = await exportedMetricNames();
    expect(queries.length).toBeGreaterThanOrEqual(10);
    for (const panel of queries) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        const names = promqlMetricNames(target.expr);
        expect(names.length, `${panel.title}: ${target.expr}`).toBeGreaterThan(0);
        for (const name of names) expect(known.has(name), `${panel.title} uses unknown metric ${name}`).toBe(true);
        expect(target.datasource).toEqual({ type: "prometheus", uid: "${datasource}" });
      }
    }
  });

  it("covers what an operator looks at and lays out cleanly", () => {
    const all = queries.flatMap((p) => p.targets ?? []).map((t) => t.expr).join("\n");
    for (const metric of [
      "octoflow_webhooks_received_total",
      "octoflow_runs_total",
      "octoflow_step_duration_seconds_bucket",
      "octoflow_agent_request_duration_seconds_bucket",
      "octoflow_agent_requests_total",
      "octoflow_tokens_total",
      "octoflow_cost_usd_total",
      "octoflow_circuit_breaker_state",
      "octoflow_queue_depth",
      "octoflow_queue_oldest_job_age_seconds",
      "octoflow_github_rate_limit_remaining",
    ]) {
      expect(all, metric).toContain(metric);
    }
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const p of panels) expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
    expect(dashboard.uid).toBe("octoflow");
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: "datasource", type: "datasource", query: "prometheus" }));
  });
});

describe("Prometheus files", () => {
  interface Rule {
    alert: string;
    expr: string;
    for?: string;
    labels: { severity: string };
    annotations: { summary: string; description: string };
  }
  const rules = (load(read("deploy/prometheus/alerts.yml")) as { groups: { name: string; rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
  const byName = new Map(rules.map((r) => [r.alert, r]));
  const promtool = service("promtool");

  it("alert rules use exported metrics, a severity and a summary", async () => {
    const known = await exportedMetricNames();
    expect(rules.length).toBeGreaterThanOrEqual(6);
    for (const rule of rules) {
      for (const name of promqlMetricNames(rule.expr)) expect(known.has(name), `${rule.alert} uses unknown metric ${name}`).toBe(true);
      expect(["warning", "critical"]).toContain(rule.labels.severity);
      expect(rule.annotations.summary.length).toBeGreaterThan(10);
    }
  });

  it("ship the same thresholds as the in-process evaluator", () => {
    const t = DEFAULT_ALERT_THRESHOLDS;
    const window = `[${t.windowSeconds / 60}m]`;
    const runs = byName.get("OctoflowRunErrorRateHigh")?.expr ?? "";
    expect(runs).toContain(window);
    expect(runs).toMatch(new RegExp(`\\)\\s*>\\s*${t.runErrorRate}\\b`));
    expect(runs).toMatch(new RegExp(`>=\\s*${t.minEvents}\\b`));
    const agents = byName.get("OctoflowAgentErrorRateHigh")?.expr ?? "";
    expect(agents).toContain(window);
    expect(agents).toMatch(new RegExp(`\\)\\s*>\\s*${t.agentErrorRate}\\b`));
    expect(agents).toContain(`outcome!~"${AGENT_NON_ERROR_OUTCOMES.join("|")}"`);
    const p95 = byName.get("OctoflowStepLatencyP95High")?.expr ?? "";
    expect(p95).toContain(`histogram_quantile(0.95`);
    expect(p95).toContain(window);
    expect(p95).toMatch(new RegExp(`>\\s*${t.stepLatencyP95Seconds}\\b`));
    expect(byName.get("OctoflowQueueBacklogOld")?.expr).toMatch(new RegExp(`>\\s*${t.queueBacklogAgeSeconds}\\b`));
    expect(byName.get("OctoflowCircuitBreakerOpen")?.expr).toMatch(/octoflow_circuit_breaker_state\)\s*==\s*2/);
    expect(byName.has("OctoflowAllProvidersUnavailable")).toBe(true);
  });

  it("the scrape config loads the rules and scrapes /metrics on port 3000", () => {
    const config = load(read("deploy/prometheus/prometheus.yml")) as {
      rule_files: string[];
      scrape_configs: { job_name: string; metrics_path: string; static_configs?: { targets: string[] }[]; dns_sd_configs?: { port: number }[] }[];
    };
    expect(config.rule_files).toEqual(["alerts.yml"]);
    expect(config.scrape_configs.length).toBeGreaterThan(0);
    for (const job of config.scrape_configs) {
      expect(job.job_name).toMatch(/^octoflow/); // OctoflowDown matches up{job=~"octoflow.*"}
      expect(job.metrics_path).toBe("/metrics");
      const ports = [...(job.static_configs ?? []).flatMap((s) => s.targets.map((t) => Number(t.split(":")[1]))), ...(job.dns_sd_configs ?? []).map((d) => d.port)];
      expect(ports.length).toBeGreaterThan(0);
      for (const port of ports) expect(port).toBe(3000);
    }
  });

  // CI installs promtool and sets OCTOFLOW_REQUIRE_SERVICES: there a missing binary fails the test
  it.skipIf(skips(promtool))(`promtool accepts the rules, the config and the rule unit tests${skipNote(promtool)}`, () => {
    const run = (...args: string[]) => execFileSync("promtool", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    expect(run("check", "rules", "deploy/prometheus/alerts.yml")).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(run("check", "config", "deploy/prometheus/prometheus.yml")).toContain("SUCCESS");
    expect(run("test", "rules", "deploy/prometheus/alerts.test.yml")).toContain("SUCCESS");
  });
});

describe("Kubernetes manifests", () => {
  const docs = (file: string) => loadAll(read(`deploy/kubernetes/${file}`)) as Json[];
  const kustomization = load(read("deploy/kubernetes/kustomization.yaml")) as { resources: string[] };
  const objects = kustomization.resources.flatMap(docs) as (Json & { kind: string; metadata: { name: string; namespace?: string } })[];
  const deployment = objects.find((o) => o.kind === "Deployment") as unknown as {
    spec: {
      replicas: number;
      selector: { matchLabels: Record<string, string> };
      template: {
        metadata: { labels: Record<string, string> };
        spec: { containers: Container[] };
      };
    };
  };
  interface Container {
    ports: { name: string; containerPort: number }[];
    env: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } } }[];
    resources: { requests: { memory: string; cpu: string }; limits: { memory: string; cpu: string } };
    livenessProbe: { httpGet: { path: string; port: string } };
    readinessProbe: { httpGet: { path: string; port: string } };
    securityContext: { allowPrivilegeEscalation: boolean; readOnlyRootFilesystem: boolean };
  }
  const container = deployment.spec.template.spec.containers[0] as Container;
  const secret = (docs("secret.example.yaml")[0] ?? {}) as { kind: string; metadata: { name: string }; stringData: Record<string, string> };

  it("lists existing files, is namespace-agnostic and leaves the example Secret out", () => {
    for (const file of kustomization.resources) expect(existsSync(`deploy/kubernetes/${file}`), file).toBe(true);
    expect(kustomization.resources).not.toContain("secret.example.yaml");
    for (const o of objects) expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBeUndefined();
  });

  it("runs three replicas with probes and resources", () => {
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.template.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
    expect(container.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "http" });
    expect(container.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "http" });
    expect(container.ports).toContainEqual({ name: "http", containerPort: 3000, protocol: "TCP" });
    expect(container.resources).toEqual({ requests: { memory: "256Mi", cpu: "250m" }, limits: { memory: "512Mi", cpu: "500m" } });
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
  });

  it("takes every secret from the Secret, and only variables the app knows", () => {
    const fromSecret = new Map(container.env.filter((e) => e.valueFrom?.secretKeyRef).map((e) => [e.name, e.valueFrom?.secretKeyRef]));
    for (const required of ["APP_ID", "PRIVATE_KEY", "WEBHOOK_SECRET", "DATABASE_URL"]) {
      expect(fromSecret.get(required), required).toMatchObject({ name: secret.metadata.name, key: required });
      expect(fromSecret.get(required)?.optional, required).toBeUndefined();
    }
    for (const optional of ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "CODEGEN_TOKEN", "DASHBOARD_TOKEN", "ALERT_WEBHOOK_URL"]) {
      expect(fromSecret.get(optional), optional).toMatchObject({ name: secret.metadata.name, key: optional, optional: true });
    }
    const known = new Set(Object.keys(envSchema.shape));
    for (const e of container.env) {
      expect(known.has(e.name), `${e.name} is not an Octoflow variable`).toBe(true);
      if (e.valueFrom?.secretKeyRef) expect(Object.keys(secret.stringData)).toContain(e.valueFrom.secretKeyRef.key);
      else expect(["PRIVATE_KEY", "WEBHOOK_SECRET", "DATABASE_URL", "DASHBOARD_TOKEN", "OPENAI_API_KEY"]).not.toContain(e.name);
    }
    expect(secret.kind).toBe("Secret");
  });

  const kubectl = service("kubectl");

  it.skipIf(skips(kubectl))(`kustomize builds the manifests with the image and labels applied${skipNote(kubectl)}`, () => {
    const built = loadAll(execFileSync("kubectl", ["kustomize", "deploy/kubernetes"], { encoding: "utf8" })) as (Json & { kind: string; metadata: { labels: Record<string, string> } })[];
    expect(built.map((o) => o.kind).sort()).toEqual(["Deployment", "PodDisruptionBudget", "Service", "Service"]);
    for (const o of built) expect(o.metadata.labels["app.kubernetes.io/part-of"]).toBe("octoflow");
    const dep = built.find((o) => o.kind === "Deployment") as unknown as { spec: { template: { spec: { containers: { image: string }[] } } } };
    expect(dep.spec.template.spec.containers[0]?.image).toBe("ghcr.io/octoflow/octoflow:latest");
  });

  it("routes both Services to the container's http port", () => {
    const services = objects.filter((o) => o.kind === "Service") as unknown as { spec: { selector: Record<string, string>; ports: { targetPort: string }[] } }[];
    expect(services.length).toBeGreaterThanOrEqual(1);
    for (const service of services) {
      expect(deployment.spec.template.metadata.labels).toMatchObject(service.spec.selector);
      for (const port of service.spec.ports) expect(port.targetPort).toBe("http");
    }
  });
});

describe("Dockerfile", () => {
  const dockerfile = read("Dockerfile");
  const ignored = read(".dockerignore").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));

  it("builds a production image on node:24-slim as a non-root user", () => {
    expect(dockerfile.match(/^FROM node:24-slim\b/gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^EXPOSE 3000$/m);
    expect(dockerfile).toMatch(/^ENV NODE_ENV=production/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK [\s\S]*127\.0\.0\.1[\s\S]*\/healthz/m);
    expect(dockerfile).toMatch(/^CMD \["node", "src\/main\.ts"\]$/m);
  });

  it("copies files that exist and that .dockerignore lets through", () => {
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => (m[1] ?? "").split(/\s+/));
    expect(copied).toEqual(expect.arrayContaining(["package.json", "package-lock.json", "app.yml", "src", "workflows"]));
    for (const path of copied) {
      expect(existsSync(path), path).toBe(true);
      expect(ignored, path).not.toContain(path);
    }
    expect(ignored).toEqual(expect.arrayContaining([".env", "node_modules", ".git", "data"]));
  });
});

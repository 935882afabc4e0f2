/**
 * A fake GitHub REST API on 127.0.0.1 for tests and benchmarks.
 *
 * - Every request is validated against GitHub's official OpenAPI description
 *   (`@octokit/openapi`, `generated/api.github.com.json`) with openapi-backend: an unknown
 *   operation or an invalid parameter / body is recorded as a failure and answered 422/404.
 *   `POST /graphql` is validated against GitHub's GraphQL schema instead (`github-graphql.ts`).
 * - Routes are expectations: `expect()` must be matched exactly `times` times (default 1),
 *   `allow()` any number of times. A request no route matches is a failure.
 * - `verify()` throws with every failure and every unused expectation, so a test fails loudly.
 * - A handler may answer a `Buffer` (sent as bytes, e.g. a gzip archive) and a redirect (`location`).
 * - Faults: `fault()` answers the next matching requests with GitHub's real error answers (primary
 *   and secondary rate limits with their headers, 5xx) or not at all (a stall after the headers, or
 *   silence), one fault per request, before the routes; each fault is an expectation too.
 *
 * @example
 * const gh = await startGitHubFake();
 * gh.expect("POST", "/repos/{owner}/{repo}/check-runs", (req) => ({ status: 201, body: { id: 1 } }));
 * // … exercise the code with baseUrl: gh.url …
 * gh.verify();
 * await gh.close();
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { OpenAPIBackend, type Request as OpenApiRequest } from "openapi-backend";
import { GRAPHQL_PATH, validateGraphqlRequest } from "./github-graphql.ts";

export interface RecordedRequest {
  method: string;
  /** Path without the query string, percent-decoded per segment only in `params`. */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  body: unknown;
  /** The OpenAPI operation id the request matched (e.g. `checks/create`). */
  operationId?: string;
  /** `performance.now()` when the request arrived. */
  at: number;
}

export interface FakeResponse {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** `headers`: send status and headers, then nothing; `all`: send nothing (both until the client closes). */
  hold?: "headers" | "all";
}

/**
 * One injected failure, as GitHub sends it:
 * - `secondary-rate-limit`: 403 (or 429) "You have exceeded a secondary rate limit", with `retry-after`
 *   when `retryAfterSeconds` is given
 * - `rate-limit`: 403 "API rate limit exceeded" with `x-ratelimit-remaining: 0` and `x-ratelimit-reset`
 * - `status`: any status (502, 500 …) with GitHub's error body
 * - `stall`: status and headers sent, then nothing until the client gives up
 * - `silent`: the request is never answered
 */
export type GitHubFault =
  | { kind: "secondary-rate-limit"; status?: 403 | 429; retryAfterSeconds?: number }
  | { kind: "rate-limit"; resetAtSeconds: number }
  | { kind: "status"; status: number; body?: unknown }
  | { kind: "stall" }
  | { kind: "silent" };

export type RouteHandler = (req: RecordedRequest, params: Record<string, string>) => FakeResponse | Promise<FakeResponse>;

interface Route {
  method: string;
  pattern: string;
  regex: RegExp;
  keys: string[];
  handler: RouteHandler;
  /** Required number of matches; undefined = any number. */
  times: number | undefined;
  used: number;
}

export interface GitHubFake {
  url: string;
  requests: RecordedRequest[];
  failures: string[];
  /** A route that must be matched exactly `times` times (default 1). Later routes win over earlier ones. */
  expect(method: string, pattern: string, handler: RouteHandler, options?: { times?: number }): void;
  /** A route that may be matched any number of times, including never. */
  allow(method: string, pattern: string, handler: RouteHandler): void;
  /** The next `faults.length` matching requests get these faults, in order (each must be used). */
  fault(method: string, pattern: string, ...faults: GitHubFault[]): void;
  /** Requests matching a method and route pattern, in arrival order. */
  find(method: string, pattern: string): RecordedRequest[];
  /** Throws when a request failed validation or matched nothing, or an expectation went unused. */
  verify(): void;
  close(): Promise<void>;
}

/**
 * Paths under this prefix model a download host such as codeload.github.com, where the archive
 * endpoints redirect: served by routes like any other, but not validated against the REST API.
 */
export const DOWNLOAD_PREFIX = "/_codeload/";

let apiPromise: Promise<OpenAPIBackend> | undefined;

/** Loads and initialises the OpenAPI validator once per test process (a test helper cache). */
export function loadGitHubOpenApi(): Promise<OpenAPIBackend> {
  apiPromise ??= (async () => {
    const file = fileURLToPath(import.meta.resolve("@octokit/openapi/generated/api.github.com.json"));
    const definition = JSON.parse(await readFile(file, "utf8")) as object;
    const api = new OpenAPIBackend({
      definition: definition as never,
      quick: true,
      validate: true,
      ajvOpts: { strict: false, validateFormats: false },
      customizeAjv: (ajv) => {
        for (const format of ["date-time", "uri", "email", "date", "uri-template", "binary", "hostname", "uuid", "ipv4", "ipv6", "time"]) {
          ajv.addFormat(format, true);
        }
        return ajv;
      },
    });
    await api.init();
    return api;
  })();
  return apiPromise;
}

function compile(pattern: string): { regex: RegExp; keys: string[] } {
  const keys: string[] = [];
  const source = pattern
    .split("/")
    .map((segment) =>
      segment.replace(/\{([^}]+)\}|[^{]+/g, (part, key: string | undefined) => {
        if (key) {
          keys.push(key);
          return "([^/]+)";
        }
        return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      }),
    )
    .join("/");
  return { regex: new RegExp(`^${source}$`), keys };
}

/** Validates one request against the OpenAPI description; returns problems (empty when valid). */
export function validateAgainstOpenApi(api: OpenAPIBackend, req: RecordedRequest): { operationId?: string; problems: string[] } {
  const oaReq: OpenApiRequest = {
    method: req.method.toLowerCase(),
    path: req.path,
    query: Object.fromEntries([...req.query.keys()].map((k) => [k, req.query.getAll(k).length > 1 ? req.query.getAll(k) : (req.query.get(k) ?? "")])),
    headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : (v ?? "")])),
    ...(req.body === undefined ? {} : { body: req.body }),
  };
  const operation = api.matchOperation(oaReq);
  if (!operation) return { problems: [`${req.method} ${req.path}: no such operation in GitHub's OpenAPI description`] };
  const result = api.validateRequest(oaReq, operation);
  const operationId = operation.operationId ?? `${req.method} ${operation.path}`;
  if (result.valid) return { operationId, problems: [] };
  return {
    operationId,
    problems: (result.errors ?? []).map((e) => `${req.method} ${req.path} (${operationId}): ${e.instancePath || "/"} ${e.message ?? "invalid"} ${JSON.stringify(e.params)}`),
  };
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return undefined;
  const text = Buffer.concat(chunks).toString("utf8");
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Starts the fake on a random port of 127.0.0.1.
 *
 * @param options.validate validate every request against the OpenAPI description (default true)
 */
export async function startGitHubFake(options: { validate?: boolean } = {}): Promise<GitHubFake> {
  const api = options.validate === false ? undefined : await loadGitHubOpenApi();
  const routes: Route[] = [];
  const requests: RecordedRequest[] = [];
  const failures: string[] = [];

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const recorded: RecordedRequest = {
        method: (req.method ?? "GET").toUpperCase(),
        path: url.pathname.replace(/^\/api\/v3(?=\/)/, ""),
        query: url.searchParams,
        headers: req.headers,
        body: await readBody(req),
        at: performance.now(),
      };
      requests.push(recorded);
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        if (Buffer.isBuffer(body)) {
          res.writeHead(status, { "content-type": "application/octet-stream", "content-length": String(body.byteLength), ...headers });
          res.end(body);
          return;
        }
        const text = typeof body === "string" ? body : JSON.stringify(body ?? {});
        res.writeHead(status, {
          "content-type": typeof body === "string" ? "text/plain; charset=utf-8" : "application/json; charset=utf-8",
          "x-ratelimit-remaining": "4999",
          "x-ratelimit-limit": "5000",
          "x-ratelimit-resource": "core",
          ...headers,
        });
        res.end(status === 204 || status === 304 ? undefined : text);
      };
      // GraphQL is not in the REST description: validated against GitHub's GraphQL schema instead.
      if (api && recorded.path === GRAPHQL_PATH) {
        const problems =
          recorded.method === "POST"
            ? await validateGraphqlRequest(recorded.body).catch((error: unknown) => [`the GraphQL validator failed: ${error instanceof Error ? error.message : String(error)}`])
            : [`${recorded.method} ${GRAPHQL_PATH}: GraphQL is POST only`];
        recorded.operationId = "graphql";
        if (problems.length > 0) {
          failures.push(...problems.map((p) => `POST ${GRAPHQL_PATH}: ${p}`));
          send(recorded.method === "POST" ? 200 : 404, { errors: problems.map((message) => ({ message })) });
          return;
        }
      } else if (api && !recorded.path.startsWith(DOWNLOAD_PREFIX)) {
        // A download host (GitHub's codeload), not the REST API: not in the OpenAPI description.
        const { operationId, problems } = validateAgainstOpenApi(api, recorded);
        if (operationId) recorded.operationId = operationId;
        if (problems.length > 0) {
          failures.push(...problems);
          send(problems[0]?.includes("no such operation") ? 404 : 422, { message: "Validation Failed (fake GitHub)", errors: problems });
          return;
        }
      }
      for (let i = routes.length - 1; i >= 0; i--) {
        const route = routes[i];
        if (!route || route.method !== recorded.method) continue;
        if (route.times !== undefined && route.used >= route.times) continue;
        const match = route.regex.exec(recorded.path);
        if (!match) continue;
        route.used++;
        const params = Object.fromEntries(route.keys.map((k, j) => [k, decodeURIComponent(match[j + 1] ?? "")]));
        try {
          const response = await route.handler(recorded, params);
          if (response.hold === "all") return;
          if (response.hold === "headers") {
            res.writeHead(response.status ?? 200, { "content-type": "application/json; charset=utf-8", ...response.headers });
            res.flushHeaders();
            return;
          }
          send(response.status ?? 200, response.body, response.headers);
        } catch (error) {
          failures.push(`${recorded.method} ${recorded.path}: handler threw ${error instanceof Error ? error.message : String(error)}`);
          send(500, { message: "fake handler error" });
        }
        return;
      }
      failures.push(`${recorded.method} ${recorded.path}${url.search}: no expectation matched`);
      send(404, { message: "Not Found (no expectation in fake GitHub)" });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;

  const add = (method: string, pattern: string, handler: RouteHandler, times: number | undefined) => {
    const { regex, keys } = compile(pattern);
    routes.push({ method: method.toUpperCase(), pattern, regex, keys, handler, times, used: 0 });
  };

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failures,
    expect(method, pattern, handler, opts = {}) {
      add(method, pattern, handler, opts.times ?? 1);
    },
    allow(method, pattern, handler) {
      add(method, pattern, handler, undefined);
    },
    fault(method, pattern, ...faults) {
      // later routes win and each fault answers once: added last-first, they are served in order
      for (const fault of [...faults].reverse()) add(method, pattern, () => faultResponse(fault), 1);
    },
    find(method, pattern) {
      const { regex } = compile(pattern);
      return requests.filter((r) => r.method === method.toUpperCase() && regex.test(r.path));
    },
    verify() {
      const unused = routes
        .filter((r) => r.times !== undefined && r.used !== r.times)
        .map((r) => `${r.method} ${r.pattern}: expected ${r.times} call(s), got ${r.used}`);
      const problems = [...failures, ...unused];
      if (problems.length > 0) throw new Error(`fake GitHub:\n  ${problems.join("\n  ")}`);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const DOCS = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api";

/** GitHub's answer for an injected fault. */
export function faultResponse(fault: GitHubFault): FakeResponse {
  switch (fault.kind) {
    case "secondary-rate-limit":
      return {
        status: fault.status ?? 403,
        body: { message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", documentation_url: DOCS },
        headers: fault.retryAfterSeconds === undefined ? {} : { "retry-after": String(fault.retryAfterSeconds) },
      };
    case "rate-limit":
      return {
        status: 403,
        body: { message: "API rate limit exceeded for installation ID 1.", documentation_url: DOCS },
        headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(fault.resetAtSeconds), "x-ratelimit-used": "5000" },
      };
    case "status":
      return { status: fault.status, body: fault.body ?? { message: fault.status === 502 ? "Server Error" : "Internal Server Error" } };
    case "stall":
      return { status: 200, hold: "headers" };
    case "silent":
      return { hold: "all" };
  }
}

/**
 * A local model / remote-agent server on 127.0.0.1 speaking the real wire formats, for tests and
 * benchmarks. Reuse it in end-to-end tests: point OPENAI_BASE_URL, ANTHROPIC_BASE_URL,
 * OPENAI_COMPATIBLE_BASE_URL at `server.baseURL` and CODEGEN_BASE_URL at `server.url`.
 *
 * Routes (the route key is what you script):
 * - `openai.chat`         POST /v1/chat/completions   Chat Completions SSE (role chunk, content deltas,
 *                                                      finish chunk, then the usage chunk that
 *                                                      `stream_options.include_usage` asks for, `[DONE]`);
 *                                                      non-streaming JSON when `stream` is false
 * - `openai.responses`    POST /v1/responses          Responses API events (response.created,
 *                                                      output_item.added, output_text.delta …, response.completed with usage)
 * - `anthropic.messages`  POST /v1/messages           Anthropic Messages SSE (message_start … message_stop)
 * - `codegen.create`      POST /v1/organizations/{org}/agent/run
 * - `codegen.get`         GET  /v1/organizations/{org}/agent/run/{id}
 * - `codegen.resume`      POST /v1/organizations/{org}/agent/run/resume
 * - `codegen.logs`        GET  /v1/alpha/organizations/{org}/agent/run/{id}/logs
 *
 * Scripting: `server.expect(route, ...replies)` queues replies, each used once, in order;
 * `server.always(route, reply)` answers every further request (benchmarks). A request with no
 * scripted reply gets HTTP 599 and is recorded in `unmatched`; `server.assertDone()` throws when a
 * request was unmatched or a scripted reply was never used — call it in `afterEach`.
 *
 * Replies (`Reply`):
 * - `{ kind: "text", text, usage?, chunkSize?, toolCalls?, chunkDelayMs?, delayMs? }` — a streamed answer in the route's format
 *   (`chunkDelayMs` paces the events like a real model; `delayMs` waits before the headers, like a model's time to first token)
 *   (for structured output, `text` is the JSON the model "wrote"; invalid JSON tests bad output)
 * - `{ kind: "status", status, body?, headers? }` — an error answer (429 + `retry-after` /
 *   `retry-after-ms`, 500, 529 …); `body` is JSON-encoded
 * - `{ kind: "json", body, status?, headers? }` — a REST answer (Codegen)
 * - `{ kind: "hang" }` — headers sent, then nothing; `server.waitForHangClosed()` resolves when the
 *   client closes that socket (cancellation reached the server)
 * - `{ kind: "silent" }` — the request is read and never answered, not even with headers (counted
 *   in `hangsClosed` like a hang once the client gives up)
 * - `{ kind: "cut", text, afterChunks }` — streams `afterChunks` events, then destroys the socket
 * - `{ kind: "raw", status?, contentType, body }` — anything else (garbage)
 * - `{ kind: "respond", answer(request) }` — scripted mode: the reply is computed from the recorded
 *   request, so a fake agent can read its tool results (`toolResultsIn(request.body)`) and decide
 *   its next tool calls (`toolCalls(...)` builds a reply that calls tools in the route's format)
 *
 * Recording: `requests` (route, method, path, headers, parsed body, socket id), `connections`
 * (TCP connections accepted), `requestsPerConnection()`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { chatCompletionJson, encodeEvents } from "./model-server-formats.ts";

export { encodeEvents, toolResultsIn } from "./model-server-formats.ts";

export type ModelRoute =
  | "openai.chat"
  | "openai.responses"
  | "anthropic.messages"
  | "codegen.create"
  | "codegen.get"
  | "codegen.resume"
  | "codegen.logs";

export interface FakeUsage {
  input: number;
  output: number;
  cached?: number;
}

export interface FakeToolCall {
  id: string;
  name: string;
  /** The arguments as the model wrote them (a JSON string). */
  arguments: string;
}

export type Reply =
  | { kind: "text"; text: string; usage?: FakeUsage; chunkSize?: number; toolCalls?: FakeToolCall[]; chunkDelayMs?: number; delayMs?: number }
  | { kind: "status"; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: "json"; body: unknown; status?: number; headers?: Record<string, string> }
  | { kind: "hang" }
  | { kind: "silent" }
  | { kind: "cut"; text: string; afterChunks: number; chunkSize?: number }
  | { kind: "raw"; status?: number; contentType: string; body: string }
  | { kind: "respond"; answer: (request: RecordedRequest) => Reply };

export interface RecordedRequest {
  route: ModelRoute | "unknown";
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
  /** Id of the TCP connection the request arrived on. */
  socketId: number;
}

export interface ModelServer {
  /** `http://127.0.0.1:<port>` (Codegen base). */
  readonly url: string;
  /** `http://127.0.0.1:<port>/v1` (OpenAI, Anthropic and OpenAI-compatible base). */
  readonly baseURL: string;
  readonly requests: RecordedRequest[];
  readonly unmatched: RecordedRequest[];
  /** TCP connections accepted so far. */
  readonly connections: number;
  /** Hanging responses whose socket the client has closed. */
  readonly hangsClosed: number;
  expect(route: ModelRoute, ...replies: Reply[]): ModelServer;
  always(route: ModelRoute, reply: Reply): ModelServer;
  requestsTo(route: ModelRoute): RecordedRequest[];
  /** Requests per TCP connection, for the connection-reuse benchmark. */
  requestsPerConnection(): number[];
  waitForHangClosed(): Promise<void>;
  /** Throws when a request was unmatched or a scripted reply is still unused. */
  assertDone(): void;
  reset(): void;
  close(): Promise<void>;
}

const ROUTES: { route: ModelRoute; method: string; pattern: RegExp }[] = [
  { route: "openai.chat", method: "POST", pattern: /^\/v1\/chat\/completions$/ },
  { route: "openai.responses", method: "POST", pattern: /^\/v1\/responses$/ },
  { route: "anthropic.messages", method: "POST", pattern: /^\/v1\/messages$/ },
  { route: "codegen.resume", method: "POST", pattern: /^\/v1\/organizations\/\d+\/agent\/run\/resume$/ },
  { route: "codegen.create", method: "POST", pattern: /^\/v1\/organizations\/\d+\/agent\/run$/ },
  { route: "codegen.get", method: "GET", pattern: /^\/v1\/organizations\/\d+\/agent\/run\/\d+$/ },
  { route: "codegen.logs", method: "GET", pattern: /^\/v1\/alpha\/organizations\/\d+\/agent\/run\/\d+\/logs$/ },
];

/**
 * Starts the server on an ephemeral port of 127.0.0.1.
 *
 * @example
 * const server = await startModelServer();
 * server.expect("openai.chat", { kind: "status", status: 429, headers: { "retry-after": "1" } }, { kind: "text", text: "hi" });
 * // … run the code under test with OPENAI_BASE_URL = server.baseURL …
 * server.assertDone();
 * await server.close();
 */
export async function startModelServer(): Promise<ModelServer> {
  const queues = new Map<ModelRoute, Reply[]>();
  const fallbacks = new Map<ModelRoute, Reply>();
  const requests: RecordedRequest[] = [];
  const unmatched: RecordedRequest[] = [];
  const sockets = new Map<Socket, number>();
  let connections = 0;
  let hangsClosed = 0;
  let hangWaiters: (() => void)[] = [];

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  server.keepAliveTimeout = 60_000;
  server.on("connection", (socket: Socket) => {
    connections += 1;
    sockets.set(socket, connections);
    socket.on("close", () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const match = ROUTES.find((r) => r.method === req.method && r.pattern.test(path));
    const recorded: RecordedRequest = {
      route: match?.route ?? "unknown",
      method: req.method ?? "GET",
      path: req.url ?? "/",
      headers: req.headers,
      body,
      socketId: sockets.get(req.socket) ?? 0,
    };
    requests.push(recorded);
    let reply = match ? (queues.get(match.route)?.shift() ?? fallbacks.get(match.route)) : undefined;
    while (reply?.kind === "respond") reply = reply.answer(recorded);
    if (!match || !reply) {
      unmatched.push(recorded);
      res.writeHead(599, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `model-server: no scripted reply for ${req.method} ${path}` } }));
      return;
    }
    await answer(match.route, reply, body, req, res);
  }

  async function answer(route: ModelRoute, reply: Reply, body: unknown, req: IncomingMessage, res: ServerResponse) {
    switch (reply.kind) {
      case "status":
        res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
        res.end(JSON.stringify(reply.body ?? { error: { message: `scripted ${reply.status}`, type: "server_error" } }));
        return;
      case "json":
        res.writeHead(reply.status ?? 200, { "content-type": "application/json", ...reply.headers });
        res.end(JSON.stringify(reply.body));
        return;
      case "raw":
        res.writeHead(reply.status ?? 200, { "content-type": reply.contentType });
        res.end(reply.body);
        return;
      case "hang":
      case "silent":
        if (reply.kind === "hang") {
          res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
          res.flushHeaders();
        }
        req.socket.once("close", () => {
          hangsClosed += 1;
          const waiters = hangWaiters;
          hangWaiters = [];
          for (const w of waiters) w();
        });
        return;
      case "text":
      case "cut": {
        const model = typeof (body as { model?: unknown })?.model === "string" ? (body as { model: string }).model : "fake-model";
        const streaming = (body as { stream?: unknown })?.stream === true;
        const textReply = reply.kind === "text" ? reply : { kind: "text" as const, text: reply.text, ...(reply.chunkSize ? { chunkSize: reply.chunkSize } : {}) };
        const events = encodeEvents(route, textReply, model);
        if (!streaming && reply.kind === "text" && route !== "openai.chat") {
          res.writeHead(400, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: { message: "model-server: only streaming is scripted for this route" } }));
          return;
        }
        if (!streaming && route === "openai.chat") {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify(chatCompletionJson(textReply, model)));
          return;
        }
        if (reply.kind === "text" && reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
        const limit = reply.kind === "cut" ? reply.afterChunks : events.length;
        const pause = reply.kind === "text" ? (reply.chunkDelayMs ?? 0) : 0;
        for (let i = 0; i < Math.min(limit, events.length); i++) {
          if (pause > 0 && i > 0) await new Promise((r) => setTimeout(r, pause));
          res.write(events[i]);
        }
        if (reply.kind === "cut") {
          await new Promise((r) => setImmediate(r));
          req.socket.destroy();
          return;
        }
        res.end();
        return;
      }
    }
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  const api: ModelServer = {
    url,
    baseURL: `${url}/v1`,
    requests,
    unmatched,
    get connections() {
      return connections;
    },
    get hangsClosed() {
      return hangsClosed;
    },
    expect(route, ...replies) {
      const queue = queues.get(route) ?? [];
      queue.push(...replies);
      queues.set(route, queue);
      return api;
    },
    always(route, reply) {
      fallbacks.set(route, reply);
      return api;
    },
    requestsTo: (route) => requests.filter((r) => r.route === route),
    requestsPerConnection() {
      const counts = new Map<number, number>();
      for (const r of requests) counts.set(r.socketId, (counts.get(r.socketId) ?? 0) + 1);
      return [...counts.values()];
    },
    waitForHangClosed() {
      if (hangsClosed > 0) return Promise.resolve();
      return new Promise<void>((resolve) => hangWaiters.push(resolve));
    },
    assertDone() {
      const problems: string[] = [];
      for (const r of unmatched) problems.push(`unmatched request: ${r.method} ${r.path}`);
      for (const [route, queue] of queues) if (queue.length > 0) problems.push(`${queue.length} unused scripted repl${queue.length === 1 ? "y" : "ies"} for ${route}: ${queue.map((q) => q.kind).join(", ")}`);
      if (problems.length > 0) throw new Error(`model-server expectations failed:\n  ${problems.join("\n  ")}`);
    },
    reset() {
      queues.clear();
      fallbacks.clear();
      requests.length = 0;
      unmatched.length = 0;
    },
    async close() {
      server.closeAllConnections();
      for (const socket of sockets.keys()) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return api;
}

let toolCallIds = 0;

/**
 * A reply that calls tools (arguments JSON-encoded as a model writes them), with optional text.
 *
 * @example
 * server.expect("openai.responses", toolCalls([{ name: "search", input: { regex: "lowStock" } }]));
 */
export function toolCalls(calls: { name: string; input: unknown }[], text = ""): Extract<Reply, { kind: "text" }> {
  return { kind: "text", text, toolCalls: calls.map((c) => ({ id: `call_${++toolCallIds}`, name: c.name, arguments: typeof c.input === "string" ? c.input : JSON.stringify(c.input) })) };
}

/** Builds a Codegen agent-run body as the API returns it. */
export function codegenRun(run: {
  id: number;
  status: string;
  result?: string | null;
  web_url?: string;
  github_pull_requests?: { id: number; title: string; url: string; head_branch_name?: string }[];
}) {
  return {
    id: run.id,
    organization_id: 1,
    status: run.status,
    created_at: "2026-01-01T00:00:00Z",
    web_url: run.web_url ?? `https://codegen.com/agent/trace/${run.id}`,
    result: run.result ?? null,
    summary: null,
    source_type: "API",
    github_pull_requests: (run.github_pull_requests ?? []).map((pr) => ({ created_at: "2026-01-01T00:00:00Z", head_branch_name: "codegen/change", ...pr })),
    metadata: {},
  };
}

/** Builds a Codegen logs page (`AgentRunWithLogsResponse`). */
export function codegenLogs(runId: number, status: string, logs: { thought?: string; tool_name?: string; message_type?: string }[], skip = 0) {
  return {
    ...codegenRun({ id: runId, status }),
    logs: logs.map((l) => ({ agent_run_id: runId, created_at: "2026-01-01T00:00:00Z", message_type: "ACTION", observation: null, tool_input: null, ...l })),
    total_logs: skip + logs.length,
    page: 1,
    size: 100,
    pages: 1,
  };
}

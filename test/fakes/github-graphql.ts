/**
 * GitHub's GraphQL endpoint for the fake GitHub (`POST /graphql`): requests are validated against
 * GitHub's published GraphQL schema (`@octokit/graphql-schema`) the way REST requests are validated
 * against the OpenAPI description, and models execute them with graphql-js over that same schema, so
 * the answers have GitHub's shape (`{ data, errors: [{ type, path, locations, message }] }`).
 *
 * @example
 * fake.allow("POST", GRAPHQL_PATH, async (req) => ({ body: await executeGraphql(req.body, { repository: () => null }) }));
 */
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { GraphQLSchema } from "graphql";

// Loaded on the first GraphQL request: suites that never speak GraphQL do not load it.
const graphqlJs = () => import("graphql");

/** Where GitHub serves GraphQL (`https://api.github.com/graphql`; `/api/graphql` on GHES). */
export const GRAPHQL_PATH = "/graphql";

let schemaPromise: Promise<GraphQLSchema> | undefined;

/** GitHub's GraphQL schema, built once per test process. */
export function loadGitHubGraphqlSchema(): Promise<GraphQLSchema> {
  schemaPromise ??= (async () => {
    // the package exports only its index; the SDL file sits beside it
    const file = join(dirname(fileURLToPath(import.meta.resolve("@octokit/graphql-schema"))), "schema.graphql");
    const { buildSchema } = await graphqlJs();
    return buildSchema(await readFile(file, "utf8"), { assumeValidSDL: true });
  })();
  return schemaPromise;
}

interface GraphqlRequestBody {
  query: string;
  variables?: Record<string, unknown>;
}

function asRequest(body: unknown): GraphqlRequestBody | undefined {
  if (!body || typeof body !== "object") return undefined;
  const { query, variables } = body as Record<string, unknown>;
  if (typeof query !== "string") return undefined;
  if (variables !== undefined && (variables === null || typeof variables !== "object" || Array.isArray(variables))) return undefined;
  return { query, ...(variables === undefined ? {} : { variables: variables as Record<string, unknown> }) };
}

/** Problems of a GraphQL request body against GitHub's schema (empty when valid). */
export async function validateGraphqlRequest(body: unknown): Promise<string[]> {
  const request = asRequest(body);
  if (!request) return ["the body is not a GraphQL request ({ query: string, variables?: object })"];
  const { parse, validate } = await graphqlJs();
  let document;
  try {
    document = parse(request.query);
  } catch (error) {
    return [error instanceof Error ? error.message : String(error)];
  }
  return validate(await loadGitHubGraphqlSchema(), document).map((e) => e.message);
}

/** An error a resolver throws to answer like GitHub (`type`: NOT_FOUND, FORBIDDEN, UNPROCESSABLE…). */
export class GitHubGraphqlError extends Error {
  override name = "GitHubGraphqlError";
  readonly type: string;
  constructor(type: string, message: string) {
    super(message);
    this.type = type;
  }
}

/**
 * Executes a (validated) request with `root` as the root value: a field of `Query` / `Mutation` is a
 * property of `root`, or a function of the field's arguments; nested objects work the same way.
 */
export async function executeGraphql(body: unknown, root: Record<string, unknown>): Promise<{ data?: unknown; errors?: unknown[] }> {
  const request = asRequest(body);
  if (!request) return { errors: [{ message: "A query attribute must be specified and must be a string." }] };
  const { graphql } = await graphqlJs();
  const result = await graphql({ schema: await loadGitHubGraphqlSchema(), source: request.query, rootValue: root, variableValues: request.variables ?? {} });
  const errors = result.errors?.map((e) => ({
    ...(e.originalError instanceof GitHubGraphqlError ? { type: e.originalError.type } : {}),
    ...(e.path ? { path: e.path } : {}),
    ...(e.locations ? { locations: e.locations } : {}),
    message: e.message,
  }));
  return { ...(result.data === undefined ? {} : { data: result.data }), ...(errors ? { errors } : {}) };
}

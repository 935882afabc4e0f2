/**
 * The trust gate: only users whose repository permission reaches `trust.minPermission` start runs
 * (`GET /repos/{owner}/{repo}/collaborators/{username}/permission`); bots only when allow-listed.
 * A refused human gets one polite answer per issue (a store marker), never one per attempt.
 */
import { randomUUID } from "node:crypto";
import type { RepoConfig } from "../config/repo-config.ts";
import type { Clock, RunStore } from "../workflows/ports.ts";
import type { RepoRef } from "../workflows/types.ts";
import { httpStatus, type GitHubClient } from "./client.ts";
import { refusalNoticeKey } from "../store/marker-keys.ts";

export const PERMISSION_ORDER = ["none", "read", "triage", "write", "maintain", "admin"] as const;
export type PermissionLevel = (typeof PERMISSION_ORDER)[number];

export interface Actor {
  login: string;
  /** `User`, `Bot`, `Organization` (from the webhook's `sender.type`). */
  type: string;
}

export type GateDecision =
  | { allowed: true; permission: PermissionLevel | "bot" }
  | { allowed: false; reason: "bot" }
  | { allowed: false; reason: "permission"; permission: PermissionLevel; required: PermissionLevel };

export interface PermissionGate {
  check(octokit: GitHubClient, repo: RepoRef, actor: Actor, trust: RepoConfig["trust"]): Promise<GateDecision>;
  /** Posts the polite refusal once per user and issue; returns true when it was posted now. */
  refuseOnce(octokit: GitHubClient, repo: RepoRef, number: number, actor: Actor, decision: GateDecision): Promise<boolean>;
}

export function isBot(actor: Actor): boolean {
  return actor.type === "Bot" || actor.login.endsWith("[bot]");
}

/** Normalises GitHub's answer: `role_name` (maintain, triage, custom roles) when known, else `permission`. */
export function levelOf(data: { permission?: string; role_name?: string }): PermissionLevel {
  const role = data.role_name?.toLowerCase();
  if (role && (PERMISSION_ORDER as readonly string[]).includes(role)) return role as PermissionLevel;
  const permission = data.permission?.toLowerCase();
  if (permission && (PERMISSION_ORDER as readonly string[]).includes(permission)) return permission as PermissionLevel;
  return "none";
}

export function atLeast(level: PermissionLevel, required: PermissionLevel): boolean {
  return PERMISSION_ORDER.indexOf(level) >= PERMISSION_ORDER.indexOf(required);
}

/**
 * @param deps.ttlMs how long a looked-up permission is trusted (default 60 s)
 * @example
 * const gate = createPermissionGate({ store, clock: systemClock });
 * const decision = await gate.check(context.octokit, repo, { login, type }, config.trust);
 */
export function createPermissionGate(deps: { store: RunStore; clock: Clock; ttlMs?: number }): PermissionGate {
  const ttlMs = deps.ttlMs ?? 60_000;
  const cache = new Map<string, { at: number; level: PermissionLevel }>();

  const lookup = async (octokit: GitHubClient, repo: RepoRef, login: string): Promise<PermissionLevel> => {
    const key = `${repo.owner}/${repo.name}:${login}`.toLowerCase();
    const hit = cache.get(key);
    if (hit && deps.clock.now() - hit.at < ttlMs) return hit.level;
    let level: PermissionLevel;
    try {
      const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner: repo.owner, repo: repo.name, username: login });
      level = levelOf(data as { permission?: string; role_name?: string });
    } catch (error) {
      // 404: not a collaborator (or the user does not exist) — no permission.
      if (httpStatus(error) !== 404) throw error;
      level = "none";
    }
    cache.set(key, { at: deps.clock.now(), level });
    if (cache.size > 10_000) cache.delete(cache.keys().next().value as string);
    return level;
  };

  return {
    async check(octokit, repo, actor, trust) {
      if (isBot(actor)) {
        const allowed = trust.allowBots.some((b) => b.toLowerCase() === actor.login.toLowerCase());
        return allowed ? { allowed: true, permission: "bot" } : { allowed: false, reason: "bot" };
      }
      const permission = await lookup(octokit, repo, actor.login);
      const required = trust.minPermission;
      return atLeast(permission, required) ? { allowed: true, permission } : { allowed: false, reason: "permission", permission, required };
    },
    async refuseOnce(octokit, repo, number, actor, decision) {
      if (decision.allowed || decision.reason === "bot") return false;
      const key = refusalNoticeKey(repo.owner, repo.name, number, actor.login);
      const value = `${deps.clock.now()}:${randomUUID()}`;
      if ((await deps.store.putMarkerIfAbsent(key, value)) !== value) return false;
      await octokit.rest.issues.createComment({
        owner: repo.owner,
        repo: repo.name,
        issue_number: number,
        body: `Thanks @${actor.login}! Octoflow runs can only be started by people with **${decision.required}** access to this repository, so I did not start one. A maintainer can start it with a label or a \`/octoflow\` command.`,
      });
      return true;
    },
  };
}

/**
 * Who may do what. Roles (people) and scopes (API keys) both map to the same
 * permissions; a key tied to a user gets what both its scopes and its user allow.
 */
import { ROLES } from "@db/schema/tables";
/** The one list, declared with the schema (its CHECK constraint). */
export { ROLES };
export type Role = (typeof ROLES)[number];

export const SCOPES = ["ingest", "review", "read", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

export type Permission =
  | "decisions:ingest"
  | "decisions:read"
  | "tasks:review"
  | "escalations:resolve"
  /** Assigning tasks to people (or back to the shared queue), and the queue's bulk actions: admins and managers. */
  | "tasks:assign"
  /** The escalations page's "all owners" view: everyone's escalations, not only one's own (admins). */
  | "escalations:all"
  | "reports:read"
  | "datasets:read"
  | "datasets:write"
  | "types:write"
  /** Who may work which queue (a decision type's members): admins and managers. */
  | "members:write"
  | "users:write"
  | "apikeys:write"
  /** Webhook subscriptions, their secrets and deliveries: admins and admin-scope keys only. */
  | "webhooks:write"
  /** Organisation settings (its time zone): admins and admin-scope keys only. */
  | "settings:write"
  | "audit:read"
  /** Proposing a policy change for a type under policy approval: admins and managers (a person, never a bare key). */
  | "policies:propose"
  /** Approving or rejecting another person's policy proposal: admins (a person, never a bare key). */
  | "policies:approve"
  /** Every type's drift alerts (GET /api/v1/alerts, the alerts page): admins, managers, read-scope keys; a type's owner sees its own without it. */
  | "alerts:read"
  /** Acknowledging a firing alert: admins and managers (a person); a type's owner, its own. */
  | "alerts:acknowledge"
  /** GET /api/v1/audit, for security monitoring tools: auditors, admins and read-scope keys (not managers). */
  | "audit:feed";

const ALL: Permission[] = [
  "decisions:ingest",
  "decisions:read",
  "tasks:review",
  "escalations:resolve",
  "tasks:assign",
  "escalations:all",
  "reports:read",
  "datasets:read",
  "datasets:write",
  "types:write",
  "members:write",
  "users:write",
  "apikeys:write",
  "webhooks:write",
  "settings:write",
  "audit:read",
  "audit:feed",
  "policies:propose",
  "policies:approve",
  "alerts:read",
  "alerts:acknowledge",
];

export const ROLE_PERMISSIONS: Record<Role, ReadonlySet<Permission>> = {
  admin: new Set(ALL),
  manager: new Set([
    "decisions:read",
    "tasks:review",
    "tasks:assign",
    "escalations:resolve",
    "reports:read",
    "datasets:read",
    "datasets:write",
    "audit:read",
    "members:write",
    "policies:propose",
    "alerts:read",
    "alerts:acknowledge",
  ]),
  reviewer: new Set(["decisions:read", "tasks:review"]),
  auditor: new Set(["decisions:read", "reports:read", "datasets:read", "audit:read", "audit:feed"]),
};

export const SCOPE_PERMISSIONS: Record<Scope, ReadonlySet<Permission>> = {
  ingest: new Set(["decisions:ingest", "decisions:read"]),
  review: new Set(["tasks:review", "decisions:read", "escalations:resolve"]),
  read: new Set(["decisions:read", "reports:read", "datasets:read", "audit:feed", "alerts:read"]),
  admin: new Set(ALL),
};

export type Principal = {
  kind: "user" | "apikey";
  /** The acting user, when there is one (sessions, and keys tied to a user). */
  user: { id: string; email: string; name: string; role: Role } | null;
  /** For audit: who did it. */
  actor: string;
  permissions: ReadonlySet<Permission>;
};

export function can(p: Principal, perm: Permission): boolean {
  return p.permissions.has(perm);
}

export function keyPermissions(scopes: Scope[], userRole: Role | null): Set<Permission> {
  const out = new Set<Permission>();
  for (const s of scopes) for (const perm of SCOPE_PERMISSIONS[s]) out.add(perm);
  if (userRole) for (const perm of [...out]) if (!ROLE_PERMISSIONS[userRole].has(perm)) out.delete(perm);
  return out;
}

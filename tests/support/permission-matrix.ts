/**
 * The permission matrix: every route (each file in app/routes/ appears in some
 * row) × method × principal → allowed or refused. One table serves three
 * readers: tests/integration/permission-matrix.test.ts walks it over HTTP,
 * scripts/permission-matrix.ts prints it as the README's "Permission matrix"
 * section, and a test keeps the README equal to that output.
 *
 * The table is written out by hand on purpose, not derived from
 * app/domain/auth/permissions.ts: it states what we promise, and the HTTP walk
 * checks that the code keeps the promise. Adding a route is one row.
 */

export const PRINCIPALS = [
  "anonymous",
  "admin",
  "manager",
  "reviewer",
  "auditor",
  "key:ingest",
  "key:review",
  "key:read",
  "key:admin",
  "key:review@reviewer",
] as const;
export type PrincipalName = (typeof PRINCIPALS)[number];

/** How each principal appears in the README (sessions by role; keys by scope, "@role" when tied to a user of that role). */
export const PRINCIPAL_LABELS: Record<PrincipalName, string> = {
  anonymous: "no session",
  admin: "admin",
  manager: "manager",
  reviewer: "reviewer",
  auditor: "auditor",
  "key:ingest": "`ingest` key",
  "key:review": "`review` key",
  "key:read": "`read` key",
  "key:admin": "`admin` key",
  "key:review@reviewer": "`review` key @reviewer",
};

/**
 * How a route authenticates, which decides what a refusal looks like:
 * - page: session cookie only (API keys are ignored); no session → redirect to /login?redirectTo=…, wrong role → 403
 * - api: API key or session cookie; neither → 401, not allowed → 403 (JSON error shape)
 * - public: anyone
 */
export type RouteKind = "page" | "api" | "public";

export type MatrixRow = {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** URL path; `:type`, `:decision`, `:task`, `:dataset`, `:n`, `:webhook`, `:delivery` are filled with real ids by the walk. */
  path: string;
  /** The app/routes/ files this request runs (layouts included). */
  files: string[];
  kind: RouteKind;
  /** The permission the route checks, for the README (blank for "any session" or public). */
  permission?: string;
  allow: readonly PrincipalName[];
  /** Form fields (pages) or JSON body (api) sent with the request: chosen so an allowed request is refused by validation, never writes. */
  form?: Record<string, string>;
  body?: unknown;
  /** The request ends the session it carries (logout): the walk signs in afresh for it. */
  endsSession?: true;
};

// Groups, to keep each row one line.
const SESSIONS = ["admin", "manager", "reviewer", "auditor"] as const;
const EVERYONE = PRINCIPALS;
/** Who holds decisions:read: every role and every key scope. */
const READERS = [...SESSIONS, "key:ingest", "key:review", "key:read", "key:admin", "key:review@reviewer"] as const;
/** Review API calls need tasks:review and a person behind them (a session, or a key tied to a user). */
const REVIEW_API = ["admin", "manager", "reviewer", "key:review@reviewer"] as const;

export const MATRIX: MatrixRow[] = [
  // Sign-in and out
  { method: "GET", path: "/login", files: ["login.tsx"], kind: "public", allow: EVERYONE },
  { method: "POST", path: "/login", files: ["login.tsx"], kind: "public", allow: EVERYONE, form: { email: "", password: "" } },
  { method: "GET", path: "/logout", files: ["logout.tsx"], kind: "public", allow: EVERYONE },
  { method: "POST", path: "/logout", files: ["logout.tsx"], kind: "public", allow: EVERYONE, endsSession: true },
  // Single sign-on (answers without SSO configured too); /pending sends anyone with a role on to / and anyone signed out to /login.
  { method: "GET", path: "/auth/oidc", files: ["auth.oidc.tsx"], kind: "public", allow: EVERYONE },
  { method: "GET", path: "/auth/oidc/callback", files: ["auth.oidc_.callback.tsx"], kind: "public", allow: EVERYONE },
  { method: "GET", path: "/pending", files: ["pending.tsx"], kind: "public", allow: EVERYONE },

  // Pages
  { method: "GET", path: "/", files: ["_index.tsx"], kind: "page", allow: SESSIONS },
  { method: "GET", path: "/queue", files: ["queue.tsx"], kind: "page", permission: "tasks:review", allow: ["admin", "manager", "reviewer"] },
  {
    method: "POST",
    path: "/queue",
    files: ["queue.tsx"],
    kind: "page",
    permission: "tasks:review",
    allow: ["admin", "manager", "reviewer"],
    form: { intent: "matrix" },
  },
  { method: "GET", path: "/review/:task", files: ["review.$taskId.tsx"], kind: "page", permission: "tasks:review", allow: ["admin", "manager", "reviewer"] },
  {
    method: "POST",
    path: "/review/:task",
    files: ["review.$taskId.tsx"],
    kind: "page",
    permission: "tasks:review",
    allow: ["admin", "manager", "reviewer"],
    form: { intent: "matrix" },
  },
  { method: "GET", path: "/escalations", files: ["escalations.tsx"], kind: "page", permission: "escalations:resolve", allow: ["admin", "manager"] },
  {
    method: "POST",
    path: "/escalations",
    files: ["escalations.tsx"],
    kind: "page",
    permission: "escalations:resolve",
    allow: ["admin", "manager"],
    form: { taskId: "" },
  },
  { method: "GET", path: "/decisions", files: ["decisions._index.tsx"], kind: "page", permission: "decisions:read", allow: SESSIONS },
  { method: "GET", path: "/decisions/:decision", files: ["decisions.$id.tsx"], kind: "page", permission: "decisions:read", allow: SESSIONS },
  { method: "GET", path: "/reports", files: ["reports.tsx"], kind: "page", permission: "reports:read", allow: ["admin", "manager", "auditor"] },
  {
    method: "GET",
    path: "/reports/thresholds?type=:type",
    files: ["reports_.thresholds.tsx"],
    kind: "page",
    permission: "reports:read",
    allow: ["admin", "manager", "auditor"],
  },
  { method: "GET", path: "/team", files: ["team.tsx"], kind: "page", permission: "reports:read", allow: ["admin", "manager", "auditor"] },
  // A type's owner also reads its alerts whatever their role; the walk's people own no type.
  { method: "GET", path: "/alerts", files: ["alerts.tsx"], kind: "page", permission: "alerts:read (or a type's owner)", allow: ["admin", "manager"] },
  {
    method: "POST",
    path: "/alerts",
    files: ["alerts.tsx"],
    kind: "page",
    permission: "alerts:acknowledge (or the type's owner)",
    allow: ["admin", "manager"],
    form: { id: "" },
  },
  {
    method: "GET",
    path: "/reports/csv?table=backlog",
    files: ["reports_.csv.ts"],
    kind: "api",
    permission: "reports:read",
    allow: ["admin", "manager", "auditor", "key:read", "key:admin"],
  },
  { method: "GET", path: "/datasets", files: ["datasets._index.tsx"], kind: "page", permission: "datasets:read", allow: ["admin", "manager", "auditor"] },
  {
    method: "POST",
    path: "/datasets",
    files: ["datasets._index.tsx"],
    kind: "page",
    permission: "datasets:write",
    allow: ["admin", "manager"],
    form: { name: "" },
  },
  {
    method: "GET",
    path: "/datasets/preview?type=:type",
    files: ["datasets.preview.ts"],
    kind: "page",
    permission: "datasets:read",
    allow: ["admin", "manager", "auditor"],
  },
  { method: "GET", path: "/datasets/:dataset", files: ["datasets.$id.tsx"], kind: "page", permission: "datasets:read", allow: ["admin", "manager", "auditor"] },
  {
    method: "POST",
    path: "/datasets/:dataset",
    files: ["datasets.$id.tsx"],
    kind: "page",
    permission: "datasets:write",
    allow: ["admin", "manager"],
    form: { train: "" },
  },
  {
    method: "GET",
    path: "/datasets/:dataset/snapshots/:n",
    files: ["datasets.$id_.snapshots.$n.tsx"],
    kind: "page",
    permission: "datasets:read",
    allow: ["admin", "manager", "auditor"],
  },

  // Admin pages (admin.tsx is the frame every /admin page runs through)
  {
    method: "GET",
    path: "/admin",
    files: ["admin.tsx", "admin._index.tsx"],
    kind: "page",
    permission: "types:write, members:write or audit:read",
    allow: ["admin", "manager", "auditor"],
  },
  // Managers open the types and users pages for queue membership only (members:write); the rest of them stays an admin's.
  {
    method: "GET",
    path: "/admin/types",
    files: ["admin.tsx", "admin.types._index.tsx"],
    kind: "page",
    permission: "types:write or members:write",
    allow: ["admin", "manager"],
  },
  { method: "GET", path: "/admin/types/new", files: ["admin.tsx", "admin.types.new.tsx"], kind: "page", permission: "types:write", allow: ["admin"] },
  {
    method: "POST",
    path: "/admin/types/new",
    files: ["admin.tsx", "admin.types.new.tsx"],
    kind: "page",
    permission: "types:write",
    allow: ["admin"],
    form: { key: "" },
  },
  {
    method: "GET",
    path: "/admin/types/:type",
    files: ["admin.tsx", "admin.types.$key.tsx"],
    kind: "page",
    permission: "types:write or members:write",
    allow: ["admin", "manager"],
  },
  {
    method: "POST",
    path: "/admin/types/:type",
    files: ["admin.tsx", "admin.types.$key.tsx"],
    kind: "page",
    permission: "types:write",
    allow: ["admin"],
    form: { name: "" },
  },
  {
    method: "POST",
    path: "/admin/types/:type?section=members",
    files: ["admin.tsx", "admin.types.$key.tsx"],
    kind: "page",
    permission: "members:write",
    allow: ["admin", "manager"],
    form: { members: "matrix" },
  },
  {
    method: "GET",
    path: "/admin/users",
    files: ["admin.tsx", "admin.users.tsx"],
    kind: "page",
    permission: "users:write or members:write",
    allow: ["admin", "manager"],
  },
  {
    method: "POST",
    path: "/admin/users",
    files: ["admin.tsx", "admin.users.tsx"],
    kind: "page",
    permission: "users:write",
    allow: ["admin"],
    form: { intent: "matrix" },
  },
  {
    method: "POST",
    path: "/admin/users?section=queues",
    files: ["admin.tsx", "admin.users.tsx"],
    kind: "page",
    permission: "members:write",
    allow: ["admin", "manager"],
    form: { id: "" },
  },
  { method: "GET", path: "/admin/api-keys", files: ["admin.tsx", "admin.api-keys.tsx"], kind: "page", permission: "apikeys:write", allow: ["admin"] },
  {
    method: "POST",
    path: "/admin/api-keys",
    files: ["admin.tsx", "admin.api-keys.tsx"],
    kind: "page",
    permission: "apikeys:write",
    allow: ["admin"],
    form: { intent: "matrix" },
  },
  { method: "GET", path: "/admin/settings", files: ["admin.tsx", "admin.settings.tsx"], kind: "page", permission: "settings:write", allow: ["admin"] },
  {
    method: "POST",
    path: "/admin/settings",
    files: ["admin.tsx", "admin.settings.tsx"],
    kind: "page",
    permission: "settings:write",
    allow: ["admin"],
    form: { timeZone: "Not/A_Zone" },
  },
  { method: "GET", path: "/admin/webhooks", files: ["admin.tsx", "admin.webhooks.tsx"], kind: "page", permission: "webhooks:write", allow: ["admin"] },
  {
    method: "POST",
    path: "/admin/webhooks",
    files: ["admin.tsx", "admin.webhooks.tsx"],
    kind: "page",
    permission: "webhooks:write",
    allow: ["admin"],
    form: { intent: "matrix" },
  },
  {
    method: "GET",
    path: "/admin/audit",
    files: ["admin.tsx", "admin.audit.tsx"],
    kind: "page",
    permission: "audit:read",
    allow: ["admin", "manager", "auditor"],
  },
  { method: "GET", path: "/admin/audit/csv", files: ["admin.audit_.csv.ts"], kind: "page", permission: "audit:read", allow: ["admin", "manager", "auditor"] },

  // API
  { method: "GET", path: "/api/v1/decision-types", files: ["api.v1.decision-types.ts"], kind: "api", permission: "decisions:read", allow: READERS },
  { method: "GET", path: "/api/v1/decision-types/:type", files: ["api.v1.decision-types.$key.ts"], kind: "api", permission: "decisions:read", allow: READERS },
  {
    method: "PUT",
    path: "/api/v1/decision-types/:type",
    files: ["api.v1.decision-types.$key.ts"],
    kind: "api",
    permission: "types:write",
    allow: ["admin", "key:admin"],
    body: {},
  },
  {
    method: "GET",
    path: "/api/v1/decision-types/:type/members",
    files: ["api.v1.decision-types.$key_.members.ts"],
    kind: "api",
    permission: "members:write",
    allow: ["admin", "manager", "key:admin"],
  },
  {
    method: "PUT",
    path: "/api/v1/decision-types/:type/members",
    files: ["api.v1.decision-types.$key_.members.ts"],
    kind: "api",
    permission: "members:write",
    allow: ["admin", "manager", "key:admin"],
    body: { members: "matrix" },
  },
  { method: "GET", path: "/api/v1/decisions", files: ["api.v1.decisions.ts"], kind: "api", permission: "decisions:read", allow: READERS },
  {
    method: "POST",
    path: "/api/v1/decisions",
    files: ["api.v1.decisions.ts"],
    kind: "api",
    permission: "decisions:ingest",
    allow: ["admin", "key:ingest", "key:admin"],
    body: {},
  },
  { method: "GET", path: "/api/v1/decisions/:decision", files: ["api.v1.decisions.$id.ts"], kind: "api", permission: "decisions:read", allow: READERS },
  {
    method: "GET",
    path: "/api/v1/decisions/:decision/evidence",
    files: ["api.v1.decisions.$id_.evidence.ts"],
    kind: "api",
    permission: "decisions:read",
    allow: READERS,
  },
  {
    method: "GET",
    path: "/api/v1/decisions/:decision/evidence?format=html",
    files: ["api.v1.decisions.$id_.evidence.ts"],
    kind: "api",
    permission: "decisions:read",
    allow: READERS,
  },
  {
    method: "GET",
    path: "/api/v1/audit",
    files: ["api.v1.audit.ts"],
    kind: "api",
    permission: "audit:feed",
    allow: ["admin", "auditor", "key:read", "key:admin"],
  },
  { method: "GET", path: "/api/v1/audit/public-key", files: ["api.v1.audit_.public-key.ts"], kind: "public", allow: EVERYONE },
  // The API contract and its reference page: public, like the code they are generated from (no data in them).
  { method: "GET", path: "/api/openapi.json", files: ["api.openapi[.]json.ts"], kind: "public", allow: EVERYONE },
  { method: "GET", path: "/docs/api", files: ["docs.api.tsx"], kind: "public", allow: EVERYONE },
  {
    method: "POST",
    path: "/api/v1/tasks/claim",
    files: ["api.v1.tasks.claim.ts"],
    kind: "api",
    permission: "tasks:review",
    allow: REVIEW_API,
    body: { type: "no-such-type" },
  },
  {
    method: "POST",
    path: "/api/v1/tasks/:task/review",
    files: ["api.v1.tasks.$id.review.ts"],
    kind: "api",
    permission: "tasks:review",
    allow: REVIEW_API,
    body: {},
  },
  { method: "POST", path: "/api/v1/tasks/:task/renew", files: ["api.v1.tasks.$id.renew.ts"], kind: "api", permission: "tasks:review", allow: REVIEW_API },
  { method: "POST", path: "/api/v1/tasks/:task/release", files: ["api.v1.tasks.$id.release.ts"], kind: "api", permission: "tasks:review", allow: REVIEW_API },
  // Assignment and bulk actions: admins and managers (sessions), and admin keys.
  {
    method: "POST",
    path: "/api/v1/tasks/:task/assign",
    files: ["api.v1.tasks.$id.assign.ts"],
    kind: "api",
    permission: "tasks:assign",
    allow: ["admin", "manager", "key:admin"],
    body: {},
  },
  {
    method: "POST",
    path: "/api/v1/tasks/bulk",
    files: ["api.v1.tasks.bulk.ts"],
    kind: "api",
    permission: "tasks:assign",
    allow: ["admin", "manager", "key:admin"],
    body: {},
  },
  {
    method: "GET",
    path: "/api/v1/reports/automation?type=:type",
    files: ["api.v1.reports.automation.ts"],
    kind: "api",
    permission: "reports:read",
    allow: ["admin", "manager", "auditor", "key:read", "key:admin"],
  },
  {
    method: "GET",
    path: "/api/v1/reports/quality?type=:type",
    files: ["api.v1.reports.quality.ts"],
    kind: "api",
    permission: "reports:read",
    allow: ["admin", "manager", "auditor", "key:read", "key:admin"],
  },
  {
    method: "GET",
    path: "/api/v1/decision-types/:type/policy-proposals",
    files: ["api.v1.decision-types.$key_.policy-proposals.ts"],
    kind: "api",
    permission: "reports:read",
    allow: ["admin", "manager", "auditor", "key:read", "key:admin"],
  },
  {
    method: "POST",
    path: "/api/v1/decision-types/:type/policy-proposals",
    files: ["api.v1.decision-types.$key_.policy-proposals.ts"],
    kind: "api",
    permission: "policies:propose",
    body: {},
    // A person: a key tied to nobody is refused even with the admin scope.
    allow: ["admin", "manager"],
  },
  {
    method: "POST",
    path: "/api/v1/decision-types/:type/policy-proposals/pp_nope/approve",
    files: ["api.v1.decision-types.$key_.policy-proposals.$id.approve.ts"],
    kind: "api",
    permission: "policies:approve",
    allow: ["admin"],
  },
  {
    method: "POST",
    path: "/api/v1/decision-types/:type/policy-proposals/pp_nope/reject",
    files: ["api.v1.decision-types.$key_.policy-proposals.$id.reject.ts"],
    kind: "api",
    permission: "policies:approve",
    allow: ["admin"],
  },
  {
    method: "POST",
    path: "/api/v1/decision-types/:type/policy-proposals/pp_nope/withdraw",
    files: ["api.v1.decision-types.$key_.policy-proposals.$id.withdraw.ts"],
    kind: "api",
    permission: "policies:propose",
    allow: ["admin", "manager"],
  },
  {
    method: "GET",
    path: "/api/v1/alerts",
    files: ["api.v1.alerts.ts"],
    kind: "api",
    // A type's owner reads that type's alerts whatever their role; the walk's people own no type.
    permission: "alerts:read (or a type's owner)",
    allow: ["admin", "manager", "key:read", "key:admin"],
  },
  {
    method: "POST",
    path: "/api/v1/alerts/alr_nope/acknowledge",
    files: ["api.v1.alerts.$id.acknowledge.ts"],
    kind: "api",
    // A person: a key tied to nobody is refused even with the admin scope.
    permission: "alerts:acknowledge (or the type's owner)",
    allow: ["admin", "manager"],
  },
  {
    method: "POST",
    path: "/api/v1/decision-types/:type/policy-impact",
    files: ["api.v1.decision-types.$key_.policy-impact.ts"],
    kind: "api",
    body: {},
    permission: "reports:read",
    allow: ["admin", "manager", "auditor", "key:read", "key:admin"],
  },
  {
    method: "GET",
    path: "/api/v1/reports/thresholds?type=:type&targetAccuracy=0.98",
    files: ["api.v1.reports.thresholds.ts"],
    kind: "api",
    permission: "reports:read",
    allow: ["admin", "manager", "auditor", "key:read", "key:admin"],
  },
  {
    method: "GET",
    path: "/api/v1/reports/reviewers?type=:type",
    files: ["api.v1.reports.reviewers.ts"],
    kind: "api",
    permission: "reports:read",
    allow: ["admin", "manager", "auditor", "key:read", "key:admin"],
  },
  {
    method: "GET",
    path: "/api/v1/datasets",
    files: ["api.v1.datasets.ts"],
    kind: "api",
    permission: "datasets:read",
    allow: ["admin", "manager", "auditor", "key:read", "key:admin"],
  },
  {
    method: "POST",
    path: "/api/v1/datasets",
    files: ["api.v1.datasets.ts"],
    kind: "api",
    permission: "datasets:write",
    allow: ["admin", "manager", "key:admin"],
    body: {},
  },
  {
    method: "GET",
    path: "/api/v1/datasets/preview?type=:type",
    files: ["api.v1.datasets.preview.ts"],
    kind: "api",
    permission: "datasets:read",
    allow: ["admin", "manager", "auditor", "key:read", "key:admin"],
  },
  {
    method: "GET",
    path: "/api/v1/datasets/:dataset",
    files: ["api.v1.datasets.$id.ts"],
    kind: "api",
    permission: "datasets:read",
    allow: ["admin", "manager", "auditor", "key:read", "key:admin"],
  },
  {
    method: "GET",
    path: "/api/v1/datasets/:dataset/snapshots",
    files: ["api.v1.datasets.$id.snapshots.ts"],
    kind: "api",
    permission: "datasets:read",
    allow: ["admin", "manager", "auditor", "key:read", "key:admin"],
  },
  {
    method: "POST",
    path: "/api/v1/datasets/:dataset/snapshots",
    files: ["api.v1.datasets.$id.snapshots.ts"],
    kind: "api",
    permission: "datasets:write",
    allow: ["admin", "manager", "key:admin"],
    body: { split: "matrix" },
  },
  {
    method: "GET",
    path: "/api/v1/datasets/:dataset/snapshots/:n",
    files: ["api.v1.datasets.$id.snapshots.$n.ts"],
    kind: "api",
    permission: "datasets:read",
    allow: ["admin", "manager", "auditor", "key:read", "key:admin"],
  },
  {
    method: "GET",
    path: "/api/v1/datasets/:dataset/snapshots/:n/card",
    files: ["api.v1.datasets.$id.snapshots.$n.card.ts"],
    kind: "api",
    permission: "datasets:read",
    allow: ["admin", "manager", "auditor", "key:read", "key:admin"],
  },
  {
    method: "GET",
    path: "/api/v1/datasets/:dataset/snapshots/:n/download?format=jsonl",
    files: ["api.v1.datasets.$id.snapshots.$n.download.ts"],
    kind: "api",
    permission: "datasets:read",
    allow: ["admin", "manager", "auditor", "key:read", "key:admin"],
  },
  // Webhooks: admins and admin keys only. The walk's subscription is disabled (it never gets deliveries); DELETE goes to
  // a subscription that does not exist, so an allowed request answers 404 and the others keep theirs.
  { method: "GET", path: "/api/v1/webhooks", files: ["api.v1.webhooks.ts"], kind: "api", permission: "webhooks:write", allow: ["admin", "key:admin"] },
  {
    method: "POST",
    path: "/api/v1/webhooks",
    files: ["api.v1.webhooks.ts"],
    kind: "api",
    permission: "webhooks:write",
    allow: ["admin", "key:admin"],
    body: { url: "" },
  },
  {
    method: "GET",
    path: "/api/v1/webhooks/:webhook",
    files: ["api.v1.webhooks.$id.ts"],
    kind: "api",
    permission: "webhooks:write",
    allow: ["admin", "key:admin"],
  },
  {
    method: "PATCH",
    path: "/api/v1/webhooks/:webhook",
    files: ["api.v1.webhooks.$id.ts"],
    kind: "api",
    permission: "webhooks:write",
    allow: ["admin", "key:admin"],
    body: { url: "" },
  },
  {
    method: "DELETE",
    path: "/api/v1/webhooks/whk_matrix_missing",
    files: ["api.v1.webhooks.$id.ts"],
    kind: "api",
    permission: "webhooks:write",
    allow: ["admin", "key:admin"],
  },
  {
    method: "POST",
    path: "/api/v1/webhooks/:webhook/rotate-secret",
    files: ["api.v1.webhooks.$id_.rotate-secret.ts"],
    kind: "api",
    permission: "webhooks:write",
    allow: ["admin", "key:admin"],
  },
  {
    method: "GET",
    path: "/api/v1/webhooks/:webhook/deliveries",
    files: ["api.v1.webhooks.$id_.deliveries.ts"],
    kind: "api",
    permission: "webhooks:write",
    allow: ["admin", "key:admin"],
  },
  {
    method: "POST",
    path: "/api/v1/webhooks/:webhook/deliveries/:delivery/retry",
    files: ["api.v1.webhooks.$id_.deliveries_.$deliveryId.retry.ts"],
    kind: "api",
    permission: "webhooks:write",
    allow: ["admin", "key:admin"],
  },
  // Any other /api path answers 404 in the JSON error shape, to everyone.
  { method: "GET", path: "/api/v1/no-such-route", files: ["api.$.ts"], kind: "public", allow: EVERYONE },
  { method: "POST", path: "/api/v1/no-such-route", files: ["api.$.ts"], kind: "public", allow: EVERYONE, body: {} },
];

/** What a principal gets from a row: "allow", or the refusal it must see. */
export type Outcome = "allow" | "login" | "401" | "403";

export function expectedOutcome(row: MatrixRow, p: PrincipalName): Outcome {
  if (row.allow.includes(p)) return "allow";
  if (row.kind === "page") return p === "anonymous" || p.startsWith("key:") ? "login" : "403";
  return p === "anonymous" ? "401" : "403";
}

const CELL: Record<Outcome, string> = { allow: "✓", login: "→ login", "401": "401", "403": "403" };

/** The README section, from the heading to the end of the table (the test compares the README with this). */
export function matrixMarkdown(): string {
  const head = ["request", "permission", ...PRINCIPALS.map((p) => PRINCIPAL_LABELS[p])];
  const lines = [
    "## Permission matrix",
    "",
    "Who may call what, generated from `tests/support/permission-matrix.ts` by `npm run permission-matrix` and checked",
    "over HTTP for every principal by `tests/integration/permission-matrix.test.ts`. ✓ allowed; `→ login` a redirect to",
    "the sign-in page (pages take the session cookie only, never an API key); 401 no credentials; 403 refused. API routes",
    "accept an API key or the session cookie. A key tied to a user gets what both its scopes and the user's role allow;",
    "review calls over the API need a person behind them (a session, or a key tied to a user).",
    "`tests/integration/fuzz-routes.test.ts` sends random and hostile bodies, query strings, headers and form posts to",
    "every row, as a principal it allows and as one it refuses: never a 5xx, and a refused request writes nothing.",
    "",
    `| ${head.join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
  ];
  for (const row of MATRIX) {
    const cells = [`\`${row.method} ${row.path}\``, row.permission ? `\`${row.permission}\`` : row.kind === "public" ? "public" : "signed in"];
    for (const p of PRINCIPALS) cells.push(CELL[expectedOutcome(row, p)]);
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n") + "\n";
}

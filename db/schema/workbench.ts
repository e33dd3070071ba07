/**
 * Reviewer workbench: live task counts per (type, kind, status), kept exact by
 * triggers on `tasks` (see the workbench_queue migration), so the queue page
 * reads its counts in O(1) instead of counting a million open tasks.
 */
import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const taskCounters = sqliteTable(
  "task_counters",
  {
    typeKey: text("type_key").notNull(),
    kind: text("kind").notNull(),
    status: text("status").notNull(),
    n: integer("n").notNull(),
  },
  (t) => [primaryKey({ columns: [t.typeKey, t.kind, t.status] })],
);

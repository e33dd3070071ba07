-- tasks(status) and tasks(status, type_key) are leading prefixes of tasks_claim_idx
-- (status, type_key, priority DESC, due_at, seq): every lookup they served, that index
-- serves as well, and each task write no longer updates two extra b-trees.
DROP INDEX IF EXISTS `tasks_status_idx`;--> statement-breakpoint
DROP INDEX IF EXISTS `tasks_status_type_idx`;

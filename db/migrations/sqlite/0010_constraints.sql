-- Hand-written (issue 10): decisions.finalized_by held "auto" or the reviewer's email; it now
-- holds the reviewer's user id like every other user reference (null for an automatic release).
UPDATE `decisions` SET `finalized_by` = NULL WHERE `finalized_by` = 'auto';--> statement-breakpoint
UPDATE `decisions` SET `finalized_by` = (SELECT `u`.`id` FROM `users` `u` WHERE lower(`u`.`email`) = lower(`decisions`.`finalized_by`)) WHERE `finalized_by` IS NOT NULL;--> statement-breakpoint
CREATE TABLE `job_locks` (
	`name` text PRIMARY KEY NOT NULL,
	`holder` text NOT NULL,
	`expires_at` integer NOT NULL,
	`acquired_at` integer NOT NULL
);
--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_tasks` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`decision_id` text NOT NULL,
	`type_key` text NOT NULL,
	`kind` text NOT NULL,
	`status` text NOT NULL,
	`priority` integer DEFAULT 0 NOT NULL,
	`due_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`claimed_by` text,
	`lease_expires_at` integer,
	`assignee_id` text,
	`excluded_user_id` text,
	`completed_at` integer,
	FOREIGN KEY (`decision_id`) REFERENCES `decisions`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`type_key`) REFERENCES `decision_types`(`key`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`claimed_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`assignee_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`excluded_user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "tasks_kind_check" CHECK("kind" IN ('review', 'qa', 'second', 'escalation')),
	CONSTRAINT "tasks_status_check" CHECK("status" IN ('open', 'claimed', 'done', 'cancelled'))
);
--> statement-breakpoint
INSERT INTO `__new_tasks`("seq", "id", "decision_id", "type_key", "kind", "status", "priority", "due_at", "created_at", "claimed_by", "lease_expires_at", "assignee_id", "excluded_user_id", "completed_at") SELECT "seq", "id", "decision_id", "type_key", "kind", "status", "priority", "due_at", "created_at", "claimed_by", "lease_expires_at", "assignee_id", "excluded_user_id", "completed_at" FROM `tasks`;--> statement-breakpoint
DROP TABLE `tasks`;--> statement-breakpoint
ALTER TABLE `__new_tasks` RENAME TO `tasks`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE UNIQUE INDEX `tasks_id_unique` ON `tasks` (`id`);--> statement-breakpoint
CREATE INDEX `tasks_claim_idx` ON `tasks` (`status`,`type_key`,"priority" DESC,`due_at`,`seq`);--> statement-breakpoint
CREATE INDEX `tasks_open_order_idx` ON `tasks` (`status`,"priority" DESC,`due_at`,`seq`);--> statement-breakpoint
CREATE INDEX `tasks_lease_idx` ON `tasks` (`status`,`lease_expires_at`);--> statement-breakpoint
CREATE INDEX `tasks_decision_idx` ON `tasks` (`decision_id`);--> statement-breakpoint
CREATE INDEX `tasks_backlog_idx` ON `tasks` (`status`,`type_key`,`kind`,`created_at`,`due_at`);--> statement-breakpoint
CREATE INDEX `tasks_status_type_kind_due_idx` ON `tasks` (`status`,`type_key`,`kind`,`due_at`);--> statement-breakpoint
CREATE INDEX `tasks_status_idx` ON `tasks` (`status`);--> statement-breakpoint
CREATE INDEX `tasks_status_type_idx` ON `tasks` (`status`,`type_key`);--> statement-breakpoint
CREATE INDEX `tasks_claimed_by_idx` ON `tasks` (`claimed_by`,`status`);--> statement-breakpoint
CREATE TABLE `__new_decisions` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`type_key` text NOT NULL,
	`external_id` text NOT NULL,
	`body_hash` text NOT NULL,
	`model_name` text NOT NULL,
	`model_version` text NOT NULL,
	`input` text NOT NULL,
	`output` text NOT NULL,
	`confidence` real NOT NULL,
	`field_confidence` text,
	`flags` text NOT NULL,
	`priority` integer DEFAULT 0 NOT NULL,
	`occurred_at` integer NOT NULL,
	`received_at` integer NOT NULL,
	`route` text NOT NULL,
	`reasons` text NOT NULL,
	`policy_version` integer NOT NULL,
	`qa_sampled` integer DEFAULT false NOT NULL,
	`status` text NOT NULL,
	`final_output` text,
	`finalized_at` integer,
	`finalized_by` text,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`type_key`) REFERENCES `decision_types`(`key`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`finalized_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "decisions_route_check" CHECK("route" IN ('auto', 'review')),
	CONSTRAINT "decisions_status_check" CHECK("status" IN ('pending_review', 'in_review', 'approved', 'corrected', 'rejected', 'escalated', 'auto_approved'))
);
--> statement-breakpoint
INSERT INTO `__new_decisions`("seq", "id", "type_key", "external_id", "body_hash", "model_name", "model_version", "input", "output", "confidence", "field_confidence", "flags", "priority", "occurred_at", "received_at", "route", "reasons", "policy_version", "qa_sampled", "status", "final_output", "finalized_at", "finalized_by", "updated_at") SELECT "seq", "id", "type_key", "external_id", "body_hash", "model_name", "model_version", "input", "output", "confidence", "field_confidence", "flags", "priority", "occurred_at", "received_at", "route", "reasons", "policy_version", "qa_sampled", "status", "final_output", "finalized_at", "finalized_by", "updated_at" FROM `decisions`;--> statement-breakpoint
DROP TABLE `decisions`;--> statement-breakpoint
ALTER TABLE `__new_decisions` RENAME TO `decisions`;--> statement-breakpoint
CREATE UNIQUE INDEX `decisions_id_unique` ON `decisions` (`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `decisions_type_external_idx` ON `decisions` (`type_key`,`external_id`);--> statement-breakpoint
CREATE INDEX `decisions_type_status_idx` ON `decisions` (`type_key`,`status`,`seq`);--> statement-breakpoint
CREATE INDEX `decisions_updated_idx` ON `decisions` (`updated_at`,`seq`);--> statement-breakpoint
CREATE TABLE `__new_reviews` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`decision_id` text NOT NULL,
	`task_id` text NOT NULL,
	`task_kind` text NOT NULL,
	`reviewer_id` text NOT NULL,
	`action` text NOT NULL,
	`output` text,
	`changed_fields` text NOT NULL,
	`reason_codes` text NOT NULL,
	`note` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`decision_id`) REFERENCES `decisions`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`reviewer_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "reviews_action_check" CHECK("action" IN ('approve', 'correct', 'reject', 'escalate')),
	CONSTRAINT "reviews_task_kind_check" CHECK("task_kind" IN ('review', 'qa', 'second', 'escalation'))
);
--> statement-breakpoint
INSERT INTO `__new_reviews`("seq", "id", "decision_id", "task_id", "task_kind", "reviewer_id", "action", "output", "changed_fields", "reason_codes", "note", "created_at") SELECT "seq", "id", "decision_id", "task_id", "task_kind", "reviewer_id", "action", "output", "changed_fields", "reason_codes", "note", "created_at" FROM `reviews`;--> statement-breakpoint
DROP TABLE `reviews`;--> statement-breakpoint
ALTER TABLE `__new_reviews` RENAME TO `reviews`;--> statement-breakpoint
CREATE UNIQUE INDEX `reviews_id_unique` ON `reviews` (`id`);--> statement-breakpoint
CREATE INDEX `reviews_decision_idx` ON `reviews` (`decision_id`);--> statement-breakpoint
CREATE INDEX `reviews_reviewer_idx` ON `reviews` (`reviewer_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `__new_users` (
	`id` text PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`name` text NOT NULL,
	`role` text,
	`password_hash` text,
	`created_at` integer NOT NULL,
	`disabled_at` integer,
	CONSTRAINT "users_role_check" CHECK("role" IN ('admin', 'manager', 'reviewer', 'auditor'))
);
--> statement-breakpoint
INSERT INTO `__new_users`("id", "email", "name", "role", "password_hash", "created_at", "disabled_at") SELECT "id", "email", "name", "role", "password_hash", "created_at", "disabled_at" FROM `users`;--> statement-breakpoint
DROP TABLE `users`;--> statement-breakpoint
ALTER TABLE `__new_users` RENAME TO `users`;--> statement-breakpoint
CREATE UNIQUE INDEX `users_email_unique` ON `users` (`email`);--> statement-breakpoint
CREATE TABLE `__new_dataset_snapshots` (
	`id` text PRIMARY KEY NOT NULL,
	`dataset_id` text NOT NULL,
	`number` integer NOT NULL,
	`status` text NOT NULL,
	`filter` text NOT NULL,
	`split` text NOT NULL,
	`identities` integer DEFAULT false NOT NULL,
	`watermark_seq` integer NOT NULL,
	`as_of` integer NOT NULL,
	`total_rows` integer DEFAULT 0 NOT NULL,
	`processed_rows` integer DEFAULT 0 NOT NULL,
	`row_count` integer,
	`content_hash` text,
	`files` text,
	`card` text,
	`error` text,
	`build_owner` text,
	`heartbeat_at` integer,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`finished_at` integer,
	FOREIGN KEY (`dataset_id`) REFERENCES `datasets`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "dataset_snapshots_status_check" CHECK("status" IN ('building', 'ready', 'failed'))
);
--> statement-breakpoint
INSERT INTO `__new_dataset_snapshots`("id", "dataset_id", "number", "status", "filter", "split", "identities", "watermark_seq", "as_of", "total_rows", "processed_rows", "row_count", "content_hash", "files", "card", "error", "build_owner", "heartbeat_at", "created_by", "created_at", "finished_at") SELECT "id", "dataset_id", "number", "status", "filter", "split", "identities", "watermark_seq", "as_of", "total_rows", "processed_rows", "row_count", "content_hash", "files", "card", "error", "build_owner", "heartbeat_at", "created_by", "created_at", "finished_at" FROM `dataset_snapshots`;--> statement-breakpoint
DROP TABLE `dataset_snapshots`;--> statement-breakpoint
ALTER TABLE `__new_dataset_snapshots` RENAME TO `dataset_snapshots`;--> statement-breakpoint
CREATE UNIQUE INDEX `dataset_snapshots_number_idx` ON `dataset_snapshots` (`dataset_id`,`number`);--> statement-breakpoint
CREATE INDEX `dataset_snapshots_status_idx` ON `dataset_snapshots` (`status`);--> statement-breakpoint
CREATE TABLE `__new_datasets` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`type_key` text NOT NULL,
	`filter` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`type_key`) REFERENCES `decision_types`(`key`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
INSERT INTO `__new_datasets`("id", "name", "description", "type_key", "filter", "created_by", "created_at") SELECT "id", "name", "description", "type_key", "filter", "created_by", "created_at" FROM `datasets`;--> statement-breakpoint
DROP TABLE `datasets`;--> statement-breakpoint
ALTER TABLE `__new_datasets` RENAME TO `datasets`;--> statement-breakpoint
CREATE UNIQUE INDEX `datasets_name_idx` ON `datasets` (`name`);--> statement-breakpoint
CREATE INDEX `datasets_type_idx` ON `datasets` (`type_key`);
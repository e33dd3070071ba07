CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`prefix` text NOT NULL,
	`key_hash` text NOT NULL,
	`scopes` text NOT NULL,
	`user_id` text,
	`created_at` integer NOT NULL,
	`last_used_at` integer,
	`revoked_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_key_hash_unique` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE TABLE `decision_types` (
	`key` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`owner_id` text NOT NULL,
	`output_schema` text NOT NULL,
	`reason_codes` text NOT NULL,
	`sla_minutes` integer NOT NULL,
	`policy_version` integer NOT NULL,
	`four_eyes` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `decisions` (
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
	FOREIGN KEY (`type_key`) REFERENCES `decision_types`(`key`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `decisions_id_unique` ON `decisions` (`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `decisions_type_external_idx` ON `decisions` (`type_key`,`external_id`);--> statement-breakpoint
CREATE INDEX `decisions_type_status_idx` ON `decisions` (`type_key`,`status`,`seq`);--> statement-breakpoint
CREATE INDEX `decisions_updated_idx` ON `decisions` (`updated_at`,`seq`);--> statement-breakpoint
CREATE TABLE `reviews` (
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
	FOREIGN KEY (`reviewer_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `reviews_id_unique` ON `reviews` (`id`);--> statement-breakpoint
CREATE INDEX `reviews_decision_idx` ON `reviews` (`decision_id`);--> statement-breakpoint
CREATE INDEX `reviews_reviewer_idx` ON `reviews` (`reviewer_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `routing_policies` (
	`type_key` text NOT NULL,
	`version` integer NOT NULL,
	`policy` text NOT NULL,
	`created_at` integer NOT NULL,
	`created_by` text,
	PRIMARY KEY(`type_key`, `version`),
	FOREIGN KEY (`type_key`) REFERENCES `decision_types`(`key`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `sessions_user_idx` ON `sessions` (`user_id`);--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `tasks` (
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
	FOREIGN KEY (`decision_id`) REFERENCES `decisions`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tasks_id_unique` ON `tasks` (`id`);--> statement-breakpoint
CREATE INDEX `tasks_claim_idx` ON `tasks` (`status`,`type_key`,"priority" DESC,`due_at`,`seq`);--> statement-breakpoint
CREATE INDEX `tasks_open_order_idx` ON `tasks` (`status`,"priority" DESC,`due_at`,`seq`);--> statement-breakpoint
CREATE INDEX `tasks_lease_idx` ON `tasks` (`status`,`lease_expires_at`);--> statement-breakpoint
CREATE INDEX `tasks_decision_idx` ON `tasks` (`decision_id`);--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`name` text NOT NULL,
	`role` text NOT NULL,
	`password_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`disabled_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_email_unique` ON `users` (`email`);--> statement-breakpoint
CREATE TABLE `audit_log` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`entity_type` text NOT NULL,
	`entity_id` text NOT NULL,
	`data` text NOT NULL,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `outbox` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`event_type` text NOT NULL,
	`type_key` text,
	`entity_id` text NOT NULL,
	`payload` text NOT NULL,
	`created_at` integer NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`delivered_at` integer,
	`last_error` text
);
--> statement-breakpoint
CREATE INDEX `outbox_pending_idx` ON `outbox` (`delivered_at`,`next_attempt_at`);--> statement-breakpoint
CREATE TABLE `rollups` (
	`type_key` text NOT NULL,
	`model_version` text NOT NULL,
	`hour` integer NOT NULL,
	`metric` text NOT NULL,
	`value` integer NOT NULL,
	PRIMARY KEY(`type_key`, `hour`, `model_version`, `metric`)
);

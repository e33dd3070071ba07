CREATE TABLE `policy_proposals` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`type_key` text NOT NULL,
	`status` text NOT NULL,
	`change` text NOT NULL,
	`impact` text,
	`reason` text NOT NULL,
	`proposed_by` text NOT NULL,
	`proposed_at` integer NOT NULL,
	`base_policy_version` integer NOT NULL,
	`decided_by` text,
	`decided_at` integer,
	`note` text,
	`policy_version` integer,
	FOREIGN KEY (`type_key`) REFERENCES `decision_types`(`key`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`proposed_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`decided_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "policy_proposals_status_check" CHECK("status" IN ('pending', 'approved', 'rejected', 'withdrawn'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `policy_proposals_id_unique` ON `policy_proposals` (`id`);--> statement-breakpoint
CREATE INDEX `policy_proposals_type_idx` ON `policy_proposals` (`type_key`,`seq`);--> statement-breakpoint
ALTER TABLE `decision_types` ADD `policy_approval` integer DEFAULT false NOT NULL;
CREATE TABLE `type_members` (
	`type_key` text NOT NULL,
	`user_id` text NOT NULL,
	`added_at` integer NOT NULL,
	PRIMARY KEY(`type_key`, `user_id`),
	FOREIGN KEY (`type_key`) REFERENCES `decision_types`(`key`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `type_members_user_idx` ON `type_members` (`user_id`);--> statement-breakpoint
ALTER TABLE `decision_types` ADD `auto_assign` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `reviews` ADD `handling_ms` integer;--> statement-breakpoint
ALTER TABLE `tasks` ADD `claimed_at` integer;--> statement-breakpoint
CREATE INDEX `tasks_assignee_idx` ON `tasks` (`assignee_id`,`status`,"priority" DESC,`due_at`,`seq`);
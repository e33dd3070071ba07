CREATE TABLE `alerts` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`type_key` text NOT NULL,
	`monitor` text NOT NULL,
	`segment` text NOT NULL,
	`state` text NOT NULL,
	`fired_at` integer NOT NULL,
	`resolved_at` integer,
	`acknowledged_at` integer,
	`acknowledged_by` text,
	`figures` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`type_key`) REFERENCES `decision_types`(`key`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`acknowledged_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "alerts_state_check" CHECK("state" IN ('firing', 'acknowledged', 'resolved'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `alerts_id_unique` ON `alerts` (`id`);--> statement-breakpoint
CREATE INDEX `alerts_type_idx` ON `alerts` (`type_key`,`fired_at`);--> statement-breakpoint
CREATE INDEX `alerts_state_idx` ON `alerts` (`state`,`fired_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `alerts_open_idx` ON `alerts` (`type_key`,`monitor`,`segment`) WHERE state <> 'resolved';--> statement-breakpoint
CREATE TABLE `monitor_counters` (
	`type_key` text NOT NULL,
	`metric` text NOT NULL,
	`minute` integer NOT NULL,
	`value` integer NOT NULL,
	PRIMARY KEY(`type_key`, `metric`, `minute`)
);
--> statement-breakpoint
CREATE INDEX `monitor_counters_minute_idx` ON `monitor_counters` (`minute`);--> statement-breakpoint
ALTER TABLE `decision_types` ADD `monitors` text;--> statement-breakpoint
ALTER TABLE `decisions` ADD `segment` text;
CREATE TABLE `dataset_snapshots` (
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
	FOREIGN KEY (`dataset_id`) REFERENCES `datasets`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `dataset_snapshots_number_idx` ON `dataset_snapshots` (`dataset_id`,`number`);--> statement-breakpoint
CREATE INDEX `dataset_snapshots_status_idx` ON `dataset_snapshots` (`status`);--> statement-breakpoint
CREATE TABLE `datasets` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`type_key` text NOT NULL,
	`filter` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `datasets_name_idx` ON `datasets` (`name`);--> statement-breakpoint
CREATE INDEX `datasets_type_idx` ON `datasets` (`type_key`);
CREATE TABLE `task_counters` (
	`type_key` text NOT NULL,
	`kind` text NOT NULL,
	`status` text NOT NULL,
	`n` integer NOT NULL,
	PRIMARY KEY(`type_key`, `kind`, `status`)
);

PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_rollups` (
	`type_key` text NOT NULL,
	`model_version` text NOT NULL,
	`policy_version` integer DEFAULT 0 NOT NULL,
	`hour` integer NOT NULL,
	`metric` text NOT NULL,
	`value` integer NOT NULL,
	PRIMARY KEY(`type_key`, `hour`, `model_version`, `policy_version`, `metric`)
);
--> statement-breakpoint
INSERT INTO `__new_rollups`("type_key", "model_version", "policy_version", "hour", "metric", "value") SELECT "type_key", "model_version", 0, "hour", "metric", "value" FROM `rollups`;--> statement-breakpoint
DROP TABLE `rollups`;--> statement-breakpoint
ALTER TABLE `__new_rollups` RENAME TO `rollups`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `rollups_metric_idx` ON `rollups` (`type_key`,`metric`,`hour`,`model_version`,`policy_version`,`value`);--> statement-breakpoint
CREATE INDEX `rollups_unsplit_idx` ON `rollups` (`type_key`,`hour`) WHERE policy_version = 0;
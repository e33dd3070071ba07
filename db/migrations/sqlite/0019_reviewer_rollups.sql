CREATE TABLE `reviewer_rollup_backfill` (
	`id` integer PRIMARY KEY NOT NULL,
	`below_seq` integer NOT NULL,
	`after_decision` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `reviewer_rollups` (
	`type_key` text NOT NULL,
	`reviewer_id` text NOT NULL,
	`span` integer NOT NULL,
	`start` integer NOT NULL,
	`metric` text NOT NULL,
	`value` integer NOT NULL,
	PRIMARY KEY(`span`, `start`, `type_key`, `reviewer_id`, `metric`)
) WITHOUT ROWID;
--> statement-breakpoint
-- (WITHOUT ROWID, added by hand: the rows are stored in key order, so the report's range reads of (span, start) read
-- the values with the keys instead of looking each row up by rowid.)
-- A store with reviews already: the reviewer-rollup-backfill job counts them (up to this seq); the report reads the reviews until it is done.
INSERT INTO reviewer_rollup_backfill (id, below_seq, after_decision) SELECT 1, max(seq), '' FROM reviews HAVING count(*) > 0;

CREATE TABLE "reviewer_rollup_backfill" (
	"id" integer PRIMARY KEY NOT NULL,
	"below_seq" bigint NOT NULL,
	"after_decision" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reviewer_rollups" (
	"type_key" text NOT NULL,
	"reviewer_id" text NOT NULL,
	"span" bigint NOT NULL,
	"start" bigint NOT NULL,
	"metric" text NOT NULL,
	"value" bigint NOT NULL,
	CONSTRAINT "reviewer_rollups_span_start_type_key_reviewer_id_metric_pk" PRIMARY KEY("span","start","type_key","reviewer_id","metric")
);
--> statement-breakpoint
-- A store with reviews already: the reviewer-rollup-backfill job counts them (up to this seq); the report reads the reviews until it is done.
INSERT INTO reviewer_rollup_backfill (id, below_seq, after_decision) SELECT 1, max(seq), '' FROM reviews HAVING count(*) > 0;

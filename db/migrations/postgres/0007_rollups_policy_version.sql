DROP INDEX "rollups_metric_idx";--> statement-breakpoint
ALTER TABLE "rollups" ADD COLUMN "policy_version" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "rollups" DROP CONSTRAINT "rollups_type_key_hour_model_version_metric_pk";--> statement-breakpoint
ALTER TABLE "rollups" ADD CONSTRAINT "rollups_type_key_hour_model_version_policy_version_metric_pk" PRIMARY KEY("type_key","hour","model_version","policy_version","metric");--> statement-breakpoint
CREATE INDEX "rollups_unsplit_idx" ON "rollups" USING btree ("type_key","hour") WHERE policy_version = 0;--> statement-breakpoint
CREATE INDEX "rollups_metric_idx" ON "rollups" USING btree ("type_key","metric","hour","model_version","policy_version","value");
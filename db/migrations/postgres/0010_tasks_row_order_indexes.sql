DROP INDEX "tasks_status_idx";--> statement-breakpoint
DROP INDEX "tasks_status_type_idx";--> statement-breakpoint
CREATE INDEX "tasks_status_idx" ON "tasks" USING btree ("status","seq");--> statement-breakpoint
CREATE INDEX "tasks_status_type_idx" ON "tasks" USING btree ("status","type_key","seq");
DROP INDEX "tasks_claim_idx";--> statement-breakpoint
DROP INDEX "tasks_open_order_idx";--> statement-breakpoint
CREATE INDEX "tasks_claim_idx" ON "tasks" USING btree ("status","type_key","priority" DESC NULLS FIRST,"due_at","seq");--> statement-breakpoint
CREATE INDEX "tasks_open_order_idx" ON "tasks" USING btree ("status","priority" DESC NULLS FIRST,"due_at","seq");
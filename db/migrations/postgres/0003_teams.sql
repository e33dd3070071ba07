CREATE TABLE "type_members" (
	"type_key" text NOT NULL,
	"user_id" text NOT NULL,
	"added_at" bigint NOT NULL,
	CONSTRAINT "type_members_type_key_user_id_pk" PRIMARY KEY("type_key","user_id")
);
--> statement-breakpoint
ALTER TABLE "decision_types" ADD COLUMN "auto_assign" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "reviews" ADD COLUMN "handling_ms" bigint;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "claimed_at" bigint;--> statement-breakpoint
ALTER TABLE "type_members" ADD CONSTRAINT "type_members_type_key_decision_types_key_fk" FOREIGN KEY ("type_key") REFERENCES "public"."decision_types"("key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "type_members" ADD CONSTRAINT "type_members_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "type_members_user_idx" ON "type_members" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "tasks_assignee_idx" ON "tasks" USING btree ("assignee_id","status","priority" DESC NULLS FIRST,"due_at","seq");
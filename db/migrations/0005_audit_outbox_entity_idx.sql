CREATE INDEX `audit_entity_idx` ON `audit_log` (`entity_id`,`seq`);--> statement-breakpoint
CREATE INDEX `outbox_entity_idx` ON `outbox` (`entity_id`);
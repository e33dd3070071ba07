CREATE TABLE `webhook_deliveries` (
	`subscription_id` text NOT NULL,
	`outbox_seq` integer NOT NULL,
	`entity_id` text NOT NULL,
	`event_type` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`last_attempt_at` integer,
	`last_status` integer,
	`last_error` text,
	`delivered_at` integer,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`subscription_id`, `outbox_seq`),
	FOREIGN KEY (`outbox_seq`) REFERENCES `outbox`(`seq`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "webhook_deliveries_status_check" CHECK("status" IN ('pending', 'delivered', 'dead'))
);
--> statement-breakpoint
CREATE INDEX `webhook_deliveries_due_idx` ON `webhook_deliveries` (`status`,`next_attempt_at`,`outbox_seq`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_entity_idx` ON `webhook_deliveries` (`subscription_id`,`entity_id`,`outbox_seq`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_outbox_idx` ON `webhook_deliveries` (`outbox_seq`);--> statement-breakpoint
CREATE TABLE `webhook_subscriptions` (
	`id` text PRIMARY KEY NOT NULL,
	`url` text NOT NULL,
	`events` text NOT NULL,
	`types` text,
	`description` text,
	`secret` text NOT NULL,
	`previous_secret` text,
	`previous_secret_expires_at` integer,
	`disabled_at` integer,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);

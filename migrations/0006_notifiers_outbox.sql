CREATE TABLE `notification_deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`notifier_id` text NOT NULL,
	`event` text NOT NULL,
	`stack_id` text,
	`payload` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` text NOT NULL,
	`last_error` text,
	`response_status` integer,
	`created_at` text NOT NULL,
	`delivered_at` text,
	`test` integer DEFAULT false NOT NULL,
	FOREIGN KEY (`notifier_id`) REFERENCES `notifiers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `notification_deliveries_due` ON `notification_deliveries` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `notification_deliveries_notifier` ON `notification_deliveries` (`notifier_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `notifiers` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`kind` text NOT NULL,
	`url_enc` text NOT NULL,
	`email_to` text,
	`email_from` text,
	`secret_enc` text,
	`events` text NOT NULL,
	`stacks` text DEFAULT '[]' NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `notifiers_name_unique` ON `notifiers` (`name`);--> statement-breakpoint
ALTER TABLE `stacks` ADD `auto_update` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `stacks` ADD `update_check_interval_seconds` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `stacks` ADD `update_check` text;--> statement-breakpoint
ALTER TABLE `stacks` ADD `commit_status` text DEFAULT 'auto' NOT NULL;--> statement-breakpoint
ALTER TABLE `stacks` ADD `commit_status_api_url` text;
CREATE TABLE `deployments` (
	`id` text PRIMARY KEY NOT NULL,
	`stack_id` text NOT NULL,
	`status` text NOT NULL,
	`trigger` text NOT NULL,
	`ref` text,
	`force` integer DEFAULT false NOT NULL,
	`target_version_id` text,
	`git_commit` text,
	`version_id` text,
	`error` text,
	`log` text,
	`queued_at` text NOT NULL,
	`started_at` text,
	`finished_at` text,
	`duration_ms` integer,
	FOREIGN KEY (`stack_id`) REFERENCES `stacks`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `deployments_stack_queued` ON `deployments` (`stack_id`,`queued_at`);--> statement-breakpoint
CREATE INDEX `deployments_status` ON `deployments` (`status`);--> statement-breakpoint
CREATE TABLE `events` (
	`id` text PRIMARY KEY NOT NULL,
	`stack_id` text NOT NULL,
	`kind` text NOT NULL,
	`detail` text DEFAULT '{}' NOT NULL,
	`status` text NOT NULL,
	`exit_code` integer,
	`output` text,
	`created_at` text NOT NULL,
	FOREIGN KEY (`stack_id`) REFERENCES `stacks`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `events_stack_created` ON `events` (`stack_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `stacks` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`compose` text,
	`repo_url` text,
	`repo_username` text,
	`repo_token_enc` text,
	`repo_branch` text,
	`compose_path` text,
	`compose_includes` text DEFAULT '[]' NOT NULL,
	`compose_variables` text DEFAULT '{}' NOT NULL,
	`service_filter` text DEFAULT '[]' NOT NULL,
	`auto_deploy` integer DEFAULT false NOT NULL,
	`reconcile_interval_seconds` integer DEFAULT 0 NOT NULL,
	`auto_rollback` integer DEFAULT true NOT NULL,
	`deploy_timeout_seconds` integer DEFAULT 900 NOT NULL,
	`webhook_secret_enc` text,
	`registries_enc` text,
	`current_version_id` text,
	`deployed_commit` text,
	`remote_commit` text,
	`last_poll_at` text,
	`last_poll_error` text,
	`poll_failures` integer DEFAULT 0 NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `stacks_name_unique` ON `stacks` (`name`);--> statement-breakpoint
CREATE TABLE `versions` (
	`id` text PRIMARY KEY NOT NULL,
	`stack_id` text NOT NULL,
	`sha256` text NOT NULL,
	`git_commit` text,
	`state` text NOT NULL,
	`created_at` text NOT NULL,
	`last_deployed_at` text,
	`last_succeeded_at` text,
	FOREIGN KEY (`stack_id`) REFERENCES `stacks`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `versions_stack_sha` ON `versions` (`stack_id`,`sha256`);--> statement-breakpoint
CREATE INDEX `versions_stack_created` ON `versions` (`stack_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`delivery_id` text PRIMARY KEY NOT NULL,
	`stack_id` text NOT NULL,
	`received_at` text NOT NULL,
	FOREIGN KEY (`stack_id`) REFERENCES `stacks`(`id`) ON UPDATE no action ON DELETE cascade
);

CREATE TABLE `hosts` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`docker_host` text,
	`ssh_private_key_enc` text,
	`ssh_known_hosts` text,
	`tls_ca_enc` text,
	`tls_cert_enc` text,
	`tls_key_enc` text,
	`max_concurrent_deploys` integer,
	`swarm` integer DEFAULT false NOT NULL,
	`reachable` integer,
	`engine_version` text,
	`compose_version` text,
	`swarm_state` text,
	`nodes` text,
	`last_checked_at` text,
	`error` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `hosts_name_unique` ON `hosts` (`name`);--> statement-breakpoint
ALTER TABLE `deployments` ADD `host_id` text;--> statement-breakpoint
ALTER TABLE `stacks` ADD `host_id` text DEFAULT 'local' NOT NULL;--> statement-breakpoint
ALTER TABLE `stacks` ADD `engine` text DEFAULT 'compose' NOT NULL;--> statement-breakpoint
ALTER TABLE `versions` ADD `image_digests` text;--> statement-breakpoint
INSERT INTO `hosts` (`id`, `name`, `created_at`, `updated_at`) VALUES ('local', 'local', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

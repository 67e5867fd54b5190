ALTER TABLE `stacks` ADD `uuid` text;--> statement-breakpoint
ALTER TABLE `stacks` ADD `webhook_signature_header` text;--> statement-breakpoint
UPDATE `stacks` SET `uuid` = lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))) WHERE `uuid` IS NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `stacks_uuid_unique` ON `stacks` (`uuid`);

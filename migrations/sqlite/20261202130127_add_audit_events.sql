-- Create "audit_events" table
CREATE TABLE `audit_events` (`id` uuid NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `actor_kind` text NOT NULL, `actor_id` text NOT NULL DEFAULT (''), `action` text NOT NULL, `target_type` text NOT NULL, `target_id` text NOT NULL DEFAULT (''), `client_ip` text NOT NULL DEFAULT (''), `request_id` text NOT NULL DEFAULT (''), `payload` json NULL, PRIMARY KEY (`id`));
-- Create index "auditevent_created_at_id" to table: "audit_events"
CREATE INDEX `auditevent_created_at_id` ON `audit_events` (`created_at`, `id`);
-- Create index "auditevent_actor_id_created_at_id" to table: "audit_events"
CREATE INDEX `auditevent_actor_id_created_at_id` ON `audit_events` (`actor_id`, `created_at`, `id`);
-- Create index "auditevent_target_type_target_id_created_at_id" to table: "audit_events"
CREATE INDEX `auditevent_target_type_target_id_created_at_id` ON `audit_events` (`target_type`, `target_id`, `created_at`, `id`);
-- Create index "auditevent_action_created_at_id" to table: "audit_events"
CREATE INDEX `auditevent_action_created_at_id` ON `audit_events` (`action`, `created_at`, `id`);

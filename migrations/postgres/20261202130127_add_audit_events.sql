-- Create "audit_events" table
CREATE TABLE "audit_events" ("id" uuid NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "actor_kind" character varying(16) NOT NULL, "actor_id" character varying(128) NOT NULL DEFAULT '', "action" character varying(64) NOT NULL, "target_type" character varying(64) NOT NULL, "target_id" character varying(128) NOT NULL DEFAULT '', "client_ip" character varying(128) NOT NULL DEFAULT '', "request_id" character varying(128) NOT NULL DEFAULT '', "payload" jsonb NULL, PRIMARY KEY ("id"));
-- Create index "auditevent_action_created_at_id" to table: "audit_events"
CREATE INDEX "auditevent_action_created_at_id" ON "audit_events" ("action", "created_at", "id");
-- Create index "auditevent_actor_id_created_at_id" to table: "audit_events"
CREATE INDEX "auditevent_actor_id_created_at_id" ON "audit_events" ("actor_id", "created_at", "id");
-- Create index "auditevent_created_at_id" to table: "audit_events"
CREATE INDEX "auditevent_created_at_id" ON "audit_events" ("created_at", "id");
-- Create index "auditevent_target_type_target_id_created_at_id" to table: "audit_events"
CREATE INDEX "auditevent_target_type_target_id_created_at_id" ON "audit_events" ("target_type", "target_id", "created_at", "id");

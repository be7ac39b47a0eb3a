-- Modify "throttles" table
ALTER TABLE "throttles" ADD COLUMN "expires_at" timestamptz NULL, ADD COLUMN "subject" character varying(128) NULL;
-- Create index "throttle_expires_at" to table: "throttles"
CREATE INDEX "throttle_expires_at" ON "throttles" ("expires_at");
-- Create index "throttle_subject" to table: "throttles"
CREATE INDEX "throttle_subject" ON "throttles" ("subject");

-- Create "event_receipts" table
CREATE TABLE "event_receipts" ("id" character varying(200) NOT NULL, "subscription" character varying(100) NOT NULL, "handled_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create index "eventreceipt_handled_at" to table: "event_receipts"
CREATE INDEX "eventreceipt_handled_at" ON "event_receipts" ("handled_at");

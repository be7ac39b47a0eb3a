-- Create "event_receipts" table
CREATE TABLE `event_receipts` (`id` text NOT NULL, `subscription` text NOT NULL, `handled_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create index "eventreceipt_handled_at" to table: "event_receipts"
CREATE INDEX `eventreceipt_handled_at` ON `event_receipts` (`handled_at`);

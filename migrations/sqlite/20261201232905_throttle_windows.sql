-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_throttles" table
CREATE TABLE `new_throttles` (`id` text NOT NULL, `count` integer NOT NULL DEFAULT (0), `window_start` datetime NOT NULL, `expires_at` datetime NULL, `subject` text NULL, `blocked_until` datetime NULL, PRIMARY KEY (`id`));
-- Copy rows from old table "throttles" to new temporary table "new_throttles"
INSERT INTO `new_throttles` (`id`, `count`, `window_start`, `blocked_until`) SELECT `id`, `count`, `window_start`, `blocked_until` FROM `throttles`;
-- Drop "throttles" table after copying rows
DROP TABLE `throttles`;
-- Rename temporary table "new_throttles" to "throttles"
ALTER TABLE `new_throttles` RENAME TO `throttles`;
-- Create index "throttle_expires_at" to table: "throttles"
CREATE INDEX `throttle_expires_at` ON `throttles` (`expires_at`);
-- Create index "throttle_subject" to table: "throttles"
CREATE INDEX `throttle_subject` ON `throttles` (`subject`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;

-- Reviewer workbench: indexes for the queue page's keyset pagination and SLA
-- counts, and triggers that keep task_counters exact on every task write.
CREATE INDEX IF NOT EXISTS `tasks_status_type_kind_due_idx` ON `tasks` (`status`,`type_key`,`kind`,`due_at`);--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `tasks_status_idx` ON `tasks` (`status`);--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `tasks_status_type_idx` ON `tasks` (`status`,`type_key`);--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `tasks_claimed_by_idx` ON `tasks` (`claimed_by`,`status`);--> statement-breakpoint
INSERT INTO `task_counters` (`type_key`,`kind`,`status`,`n`)
  SELECT `type_key`,`kind`,`status`,count(*) FROM `tasks` GROUP BY `type_key`,`kind`,`status`;--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS `tasks_counters_insert` AFTER INSERT ON `tasks` BEGIN
  INSERT INTO `task_counters` (`type_key`,`kind`,`status`,`n`) VALUES (NEW.`type_key`, NEW.`kind`, NEW.`status`, 1)
    ON CONFLICT (`type_key`,`kind`,`status`) DO UPDATE SET `n` = `n` + 1;
END;--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS `tasks_counters_delete` AFTER DELETE ON `tasks` BEGIN
  UPDATE `task_counters` SET `n` = `n` - 1 WHERE `type_key` = OLD.`type_key` AND `kind` = OLD.`kind` AND `status` = OLD.`status`;
END;--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS `tasks_counters_update` AFTER UPDATE OF `status`,`kind`,`type_key` ON `tasks`
  WHEN OLD.`status` IS NOT NEW.`status` OR OLD.`kind` IS NOT NEW.`kind` OR OLD.`type_key` IS NOT NEW.`type_key` BEGIN
  UPDATE `task_counters` SET `n` = `n` - 1 WHERE `type_key` = OLD.`type_key` AND `kind` = OLD.`kind` AND `status` = OLD.`status`;
  INSERT INTO `task_counters` (`type_key`,`kind`,`status`,`n`) VALUES (NEW.`type_key`, NEW.`kind`, NEW.`status`, 1)
    ON CONFLICT (`type_key`,`kind`,`status`) DO UPDATE SET `n` = `n` + 1;
END;

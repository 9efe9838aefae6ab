--
-- Concurrently remove index appointments_starts_at_idx from appointment
--
DROP INDEX CONCURRENTLY IF EXISTS "appointments_starts_at_idx";

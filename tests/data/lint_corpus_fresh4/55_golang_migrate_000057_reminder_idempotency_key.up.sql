-- the unique index follows in 000058 (CONCURRENTLY cannot run in this file's implicit transaction)
ALTER TABLE reminders ADD COLUMN IF NOT EXISTS idempotency_key UUID NOT NULL DEFAULT gen_random_uuid();

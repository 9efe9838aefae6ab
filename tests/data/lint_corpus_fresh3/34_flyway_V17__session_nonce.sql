ALTER TABLE sessions ADD COLUMN nonce uuid NOT NULL DEFAULT gen_random_uuid();

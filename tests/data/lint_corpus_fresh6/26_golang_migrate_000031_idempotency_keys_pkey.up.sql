-- 000031_idempotency_keys_pkey.up.sql
-- the unique index has been there since 000012; promote it instead of building another
ALTER TABLE idempotency_keys
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY USING INDEX idempotency_keys_merchant_key_idx;

-- add column now default
ALTER TABLE orders ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

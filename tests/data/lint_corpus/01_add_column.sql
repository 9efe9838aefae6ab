-- adding columns: defaults, volatility, NOT NULL, serials, inline constraints
SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN nickname text;
ALTER TABLE users ADD COLUMN score bigint DEFAULT 0;
ALTER TABLE users ADD COLUMN created timestamptz DEFAULT now();
ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();
ALTER TABLE users ADD COLUMN luck double precision DEFAULT random();
ALTER TABLE users ADD COLUMN code text NOT NULL;
ALTER TABLE users ADD COLUMN status text NOT NULL DEFAULT 'new';
ALTER TABLE users ADD COLUMN seq bigserial;
ALTER TABLE users ADD COLUMN ref_id bigint REFERENCES accounts (id);
ALTER TABLE users ADD COLUMN pin text UNIQUE;
ALTER TABLE users ADD COLUMN age_checked bigint CHECK (age_checked >= 0);
ALTER TABLE users ADD COLUMN uid bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE users ADD COLUMN lower_email text GENERATED ALWAYS AS (lower(email)) STORED;

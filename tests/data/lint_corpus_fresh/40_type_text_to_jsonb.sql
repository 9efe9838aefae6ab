-- type text to jsonb
ALTER TABLE orders ALTER COLUMN note TYPE jsonb USING to_jsonb(note);

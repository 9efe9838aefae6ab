-- spread comments over 16 shards
ALTER TABLE comments ADD COLUMN shard integer DEFAULT (random() * 15)::integer;

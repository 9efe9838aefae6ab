DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                   WHERE table_schema = current_schema() AND table_name = 'accounts' AND column_name = 'locale') THEN
        ALTER TABLE accounts ADD COLUMN locale text DEFAULT 'en-US';
    END IF;
END
$$;

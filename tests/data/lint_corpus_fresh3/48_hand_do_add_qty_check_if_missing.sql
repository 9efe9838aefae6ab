DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'inventory_qty_nonnegative') THEN
    ALTER TABLE inventory ADD CONSTRAINT inventory_qty_nonnegative CHECK (qty >= 0);
  END IF;
END $$;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'invoices_amount_positive') THEN
    ALTER TABLE invoices ADD CONSTRAINT invoices_amount_positive CHECK (amount > 0);
  END IF;
END
$$;

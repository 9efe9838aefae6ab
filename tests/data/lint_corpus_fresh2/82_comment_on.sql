COMMENT ON COLUMN invoices.amount IS 'gross amount, in the invoice currency';
COMMENT ON TABLE posts IS 'blog posts';

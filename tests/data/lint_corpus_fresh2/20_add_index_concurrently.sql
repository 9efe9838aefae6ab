-- Rails: add_index :invoices, :issued_on, algorithm: :concurrently
CREATE INDEX CONCURRENTLY IF NOT EXISTS "index_invoices_on_issued_on" ON "invoices" ("issued_on");

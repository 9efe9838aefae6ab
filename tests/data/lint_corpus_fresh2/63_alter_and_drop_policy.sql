ALTER POLICY invoices_visible ON invoices USING (paid);
DROP POLICY IF EXISTS invoices_visible ON invoices;

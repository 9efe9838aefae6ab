-- invoices.issued_at NOT NULL without a long ACCESS EXCLUSIVE scan (PG12+ uses the validated CHECK)
SET lock_timeout = '2s';
ALTER TABLE public.invoices ADD CONSTRAINT invoices_issued_at_not_null CHECK (issued_at IS NOT NULL) NOT VALID;
ALTER TABLE public.invoices VALIDATE CONSTRAINT invoices_issued_at_not_null;
ALTER TABLE public.invoices ALTER COLUMN issued_at SET NOT NULL;
ALTER TABLE public.invoices DROP CONSTRAINT invoices_issued_at_not_null;
RESET lock_timeout;

-- V15: add the check without a long lock, then validate it
ALTER TABLE public.orders ADD CONSTRAINT orders_total_cents_nonneg CHECK (total_cents >= 0) NOT VALID;
ALTER TABLE public.orders VALIDATE CONSTRAINT orders_total_cents_nonneg;

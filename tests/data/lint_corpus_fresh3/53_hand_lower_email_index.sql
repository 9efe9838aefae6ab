CREATE INDEX CONCURRENTLY IF NOT EXISTS accounts_lower_email_idx ON public.accounts (lower(email));

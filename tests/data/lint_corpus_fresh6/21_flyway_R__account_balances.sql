-- R__account_balances.sql (repeatable)
CREATE OR REPLACE VIEW account_balances AS
    SELECT a.id AS account_id, c.full_name, a.currency, a.balance_minor, a.status,
           a.balance_minor + COALESCE(a.overdraft_limit * 100, 0)::bigint AS available_minor
    FROM accounts a
    JOIN customers c ON c.id = a.customer_id
    WHERE a.closed_at IS NULL;

GRANT SELECT ON account_balances TO ledger_readonly;

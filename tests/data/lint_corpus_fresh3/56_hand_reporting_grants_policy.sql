GRANT SELECT ON TABLE orders, order_items, products TO reporting;
GRANT USAGE ON SEQUENCE order_ref_seq TO reporting;
CREATE POLICY sessions_own_rows ON sessions
    USING (account_id = current_setting('app.account_id', true)::int);

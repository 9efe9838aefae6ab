-- replace view
CREATE OR REPLACE VIEW active_accounts AS SELECT id, email, name FROM accounts WHERE plan <> 'closed';

-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION orders_audit() RETURNS trigger AS $$
BEGIN
    INSERT INTO audit_log (table_name, row_id, diff) VALUES ('orders', NEW.id, to_jsonb(NEW));
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

CREATE TRIGGER orders_audit_trg AFTER INSERT OR UPDATE ON orders
    FOR EACH ROW EXECUTE FUNCTION orders_audit();

-- +goose Down
DROP TRIGGER IF EXISTS orders_audit_trg ON orders;
DROP FUNCTION IF EXISTS orders_audit();

-- +goose Up
CREATE TABLE shipment_status_history (
    id          bigserial PRIMARY KEY,
    shipment_id bigint NOT NULL,
    old_status  shipment_status,
    new_status  shipment_status NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now()
);

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION shipments_status_audit() RETURNS trigger AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        INSERT INTO shipment_status_history (shipment_id, old_status, new_status)
        VALUES (NEW.id, OLD.status, NEW.status);
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

ALTER FUNCTION shipments_status_audit() OWNER TO logistics_app;

CREATE TRIGGER shipments_status_audit
    AFTER UPDATE OF status ON shipments
    FOR EACH ROW EXECUTE FUNCTION shipments_status_audit();

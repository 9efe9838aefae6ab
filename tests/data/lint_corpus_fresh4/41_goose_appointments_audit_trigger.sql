-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION log_appointment_change() RETURNS trigger AS $$
BEGIN
    INSERT INTO audit_events (actor_id, action, entity, entity_id, data)
    VALUES (NULL, TG_OP, 'appointment', NEW.id, to_jsonb(NEW));
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

CREATE TRIGGER appointments_audit
    AFTER INSERT OR UPDATE ON appointments
    FOR EACH ROW EXECUTE FUNCTION log_appointment_change();

-- +goose Down
DROP TRIGGER IF EXISTS appointments_audit ON appointments;
DROP FUNCTION IF EXISTS log_appointment_change();

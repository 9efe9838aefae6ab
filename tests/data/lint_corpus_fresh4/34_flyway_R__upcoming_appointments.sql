-- Repeatable migration: re-applied whenever its checksum changes
CREATE OR REPLACE VIEW upcoming_appointments AS
    SELECT a.id, a.starts_at, a.status, p.last_name AS patient_last_name, pr.last_name AS practitioner_last_name,
           a.room_id, a.kind
    FROM appointments a
    JOIN patients p ON p.id = a.patient_id
    JOIN practitioners pr ON pr.id = a.practitioner_id
    WHERE a.starts_at > now();

GRANT SELECT ON upcoming_appointments TO analytics_ro;

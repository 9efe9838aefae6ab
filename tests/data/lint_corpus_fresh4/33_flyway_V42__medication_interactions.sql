CREATE TABLE medication_interactions (
    medication_a_id INTEGER NOT NULL REFERENCES medications (id),
    medication_b_id INTEGER NOT NULL REFERENCES medications (id),
    severity        VARCHAR(16) NOT NULL CHECK (severity IN ('minor', 'moderate', 'major')),
    PRIMARY KEY (medication_a_id, medication_b_id)
);

INSERT INTO medication_interactions (medication_a_id, medication_b_id, severity)
SELECT a.id, b.id, 'moderate'
  FROM medications a
  JOIN medications b ON b.id = a.id + 1
 WHERE a.controlled;

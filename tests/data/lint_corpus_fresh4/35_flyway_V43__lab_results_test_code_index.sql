-- V43: lab results are looked up by test code per patient
CREATE INDEX IF NOT EXISTS lab_results_test_code_idx ON lab_results (test_code, collected_at);

-- 2027 lab results were bulk-loaded into lab_results_2027; attach it as the parent's partition.
-- 1. the parent's index, built on the partition first so ATTACH only adopts it
CREATE INDEX CONCURRENTLY IF NOT EXISTS lab_results_2027_patient_id_idx ON public.lab_results_2027 (patient_id);
-- 2. a CHECK proving the bound, so ATTACH skips its own scan
ALTER TABLE public.lab_results_2027 ADD CONSTRAINT lab_results_2027_bound
    CHECK (collected_at IS NOT NULL AND collected_at >= '2027-01-01 00:00:00+00' AND collected_at < '2028-01-01 00:00:00+00') NOT VALID;
ALTER TABLE public.lab_results_2027 VALIDATE CONSTRAINT lab_results_2027_bound;
-- 3. attach, and drop the now redundant CHECK
SET lock_timeout = '5s';
ALTER TABLE public.lab_results ATTACH PARTITION public.lab_results_2027
    FOR VALUES FROM ('2027-01-01 00:00:00+00') TO ('2028-01-01 00:00:00+00');
ALTER TABLE public.lab_results_2027 DROP CONSTRAINT lab_results_2027_bound;
RESET lock_timeout;

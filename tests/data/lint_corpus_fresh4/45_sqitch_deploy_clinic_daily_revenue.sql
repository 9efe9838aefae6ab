-- Deploy clinicflow:clinic_daily_revenue to pg
-- requires: invoices

BEGIN;

CREATE MATERIALIZED VIEW clinic_daily_revenue AS
SELECT p.clinic_id,
       date_trunc('day', i.issued_at) AS day,
       sum(i.amount_cents)            AS amount_cents,
       count(*)                       AS invoices
  FROM invoices i
  JOIN patients p ON p.id = i.patient_id
 WHERE i.status <> 'void'
 GROUP BY 1, 2
WITH DATA;

CREATE UNIQUE INDEX clinic_daily_revenue_key ON clinic_daily_revenue (clinic_id, day);

GRANT SELECT ON clinic_daily_revenue TO analytics_ro;

COMMIT;

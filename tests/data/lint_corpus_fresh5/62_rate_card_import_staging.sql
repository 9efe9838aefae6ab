-- Load the new carrier rate sheet through an unlogged staging table (psql -f, the CSV next to the script)
CREATE UNLOGGED TABLE IF NOT EXISTS rate_card_import (
    carrier_id integer, origin_country char(2), dest_country char(2),
    weight_from_g integer, weight_to_g integer, price_cents integer, valid_from date
);
\copy rate_card_import FROM 'rate_sheet_2027.csv' WITH (FORMAT csv, HEADER true)
BEGIN;
UPDATE rate_cards SET valid_to = DATE '2026-12-31' WHERE valid_to IS NULL AND carrier_id IN (SELECT DISTINCT carrier_id FROM rate_card_import);
INSERT INTO rate_cards (carrier_id, origin_country, dest_country, weight_from_g, weight_to_g, price_cents, valid_from)
SELECT carrier_id, origin_country, dest_country, weight_from_g, weight_to_g, price_cents, valid_from FROM rate_card_import;
COMMIT;
DROP TABLE rate_card_import;

-- new tracking code range for the 2027 label stock; tie the invoice number sequence to its column
ALTER SEQUENCE tracking_code_seq RESTART WITH 900000 CACHE 20;
ALTER SEQUENCE invoice_number_seq OWNED BY invoices.number;
SELECT setval('invoices_id_seq', (SELECT max(id) FROM invoices) + 1);

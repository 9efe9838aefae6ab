CREATE TYPE invoice_status AS ENUM ('draft', 'issued', 'paid', 'void');

ALTER TABLE invoices
    ALTER COLUMN status DROP DEFAULT,
    ALTER COLUMN status TYPE invoice_status USING status::invoice_status,
    ALTER COLUMN status SET DEFAULT 'draft';

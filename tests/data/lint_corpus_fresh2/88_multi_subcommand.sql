ALTER TABLE invoices
    ALTER COLUMN currency TYPE varchar(10),
    ADD COLUMN due_on date,
    ALTER COLUMN paid SET DEFAULT false;

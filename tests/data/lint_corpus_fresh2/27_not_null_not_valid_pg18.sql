-- PostgreSQL 18: a NOT NULL constraint added NOT VALID, validated separately
ALTER TABLE invoices ADD CONSTRAINT invoices_user_id_nn NOT NULL user_id NOT VALID;
ALTER TABLE invoices VALIDATE CONSTRAINT invoices_user_id_nn;

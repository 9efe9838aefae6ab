-- constraints: validated, NOT VALID, VALIDATE, unique, primary key
SET lock_timeout = '2s';
ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);
ALTER TABLE orders ADD CONSTRAINT orders_user_fk2 FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk2;
ALTER TABLE orders ADD CONSTRAINT orders_total_pos CHECK (total >= 0);
ALTER TABLE orders ADD CONSTRAINT orders_total_pos2 CHECK (total >= 0) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_pos2;
ALTER TABLE orders ADD CONSTRAINT orders_code_key UNIQUE (code);
ALTER TABLE orders ADD CONSTRAINT orders_code_key2 UNIQUE USING INDEX orders_code_idx;
ALTER TABLE orders ADD PRIMARY KEY (id);
ALTER TABLE orders ADD CONSTRAINT orders_pkey2 PRIMARY KEY USING INDEX orders_id_idx;
ALTER TABLE orders DROP CONSTRAINT orders_total_pos;
ALTER TABLE orders ADD CONSTRAINT no_overlap EXCLUDE USING gist (period WITH &&);

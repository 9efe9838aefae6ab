-- stock_movements was created without a primary key; logical replication needs one
ALTER TABLE stock_movements ADD PRIMARY KEY (id);

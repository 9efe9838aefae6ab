-- order references restart above the numbers the old system handed out
ALTER SEQUENCE order_ref_seq RESTART WITH 500000;
ALTER SEQUENCE order_ref_seq OWNED BY orders.ref;
CREATE SEQUENCE IF NOT EXISTS refund_ref_seq START WITH 1 INCREMENT BY 1 CACHE 20;

-- alter column type enum
CREATE TYPE order_state AS ENUM ('new', 'paid', 'shipped');
ALTER TABLE orders ALTER COLUMN status DROP DEFAULT;
ALTER TABLE orders ALTER COLUMN status TYPE order_state USING status::order_state;

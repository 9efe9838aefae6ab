ALTER TYPE shipment_status ADD VALUE IF NOT EXISTS 'held_at_customs' AFTER 'in_transit';
ALTER TYPE parcel_size RENAME VALUE 'large' TO 'oversize';

-- V41: capacity must be positive; added NOT VALID so existing rows are checked without blocking writes
ALTER TABLE rooms ADD CONSTRAINT rooms_capacity_positive CHECK (capacity > 0) NOT VALID;
ALTER TABLE rooms VALIDATE CONSTRAINT rooms_capacity_positive;

-- yearly: create next year's partition ahead of time
CREATE TABLE IF NOT EXISTS public.events_2027 PARTITION OF public.events
    FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');

-- migrate:up
create table return_labels (
  id bigserial primary key,
  shipment_id bigint not null references shipments(id),
  carrier_id integer references carriers(id),
  label_url text not null,
  created_at timestamptz not null default now()
);
create index return_labels_shipment_id_idx on return_labels (shipment_id);

-- migrate:down
drop table return_labels;

-- migrate:up
create table ticket_drafts (
  id bigserial primary key,
  ticket_id bigint not null references tickets(id) on delete cascade,
  agent_id bigint not null references agents(id),
  body text not null default '',
  updated_at timestamptz not null default now(),
  unique (ticket_id, agent_id)
);

-- migrate:down
drop table ticket_drafts;

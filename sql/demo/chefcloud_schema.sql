-- ChefCloud: the six tables the seed's change set indexes, with the columns its indexes and query
-- patterns name plus the ones a restaurant platform would really carry. Primary keys are added
-- after the data is loaded (chefcloud_data.sql), which is much faster than maintaining them row by row.

CREATE TABLE franchise_overview (
  id          bigint NOT NULL,
  org_id      integer NOT NULL,
  branch_id   integer NOT NULL,
  period      date NOT NULL,
  revenue     numeric(14, 2) NOT NULL,
  orders      integer NOT NULL,
  avg_ticket  numeric(10, 2) NOT NULL,
  created_at  timestamptz NOT NULL
);

CREATE TABLE franchise_rankings (
  id          bigint NOT NULL,
  org_id      integer NOT NULL,
  branch_id   integer NOT NULL,
  metric      text NOT NULL,
  period      date NOT NULL,
  value       numeric(14, 2) NOT NULL,
  rank        integer NOT NULL
);

CREATE TABLE franchise_budgets (
  id             bigint NOT NULL,
  org_id         integer NOT NULL,
  branch_id      integer NOT NULL,
  cost_center    text NOT NULL,
  period         date NOT NULL,
  budget_amount  numeric(14, 2) NOT NULL,
  actual_amount  numeric(14, 2) NOT NULL
);

CREATE TABLE inventory_batches (
  id           bigint NOT NULL,
  org_id       integer NOT NULL,
  branch_id    integer NOT NULL,
  sku          text NOT NULL,
  batch_no     text NOT NULL,
  quantity     numeric(12, 3) NOT NULL,
  unit_cost    numeric(12, 4) NOT NULL,
  received_at  timestamptz NOT NULL,
  expires_at   date
);

CREATE TABLE purchase_orders (
  id            bigint NOT NULL,
  org_id        integer NOT NULL,
  supplier_id   integer NOT NULL,
  status        text NOT NULL,
  total_amount  numeric(14, 2) NOT NULL,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL
);

CREATE TABLE payments (
  id          bigint NOT NULL,
  org_id      integer NOT NULL,
  order_id    bigint NOT NULL,
  status      text NOT NULL,
  method      text NOT NULL,
  amount      numeric(12, 2) NOT NULL,
  created_at  timestamptz NOT NULL
);

-- Set-based generator for the ChefCloud demo data. The caller sets indexdeck.rows (rows per table)
-- in the session first. Values are skewed the way real tenants are: 500 organisations, a few
-- statuses, monthly periods over three years.

INSERT INTO franchise_overview
SELECT
  g,
  1 + (g % 500),
  1 + (g % 40),
  date '2023-01-01' + ((g / 500) % 36) * interval '1 month',
  round((random() * 250000)::numeric, 2),
  (random() * 9000)::int,
  round((8 + random() * 40)::numeric, 2),
  timestamptz '2023-01-01' + (g % 1000) * interval '1 day'
FROM generate_series(1, current_setting('indexdeck.rows')::int) AS g;

INSERT INTO franchise_rankings
SELECT
  g,
  1 + (g % 500),
  1 + (g % 40),
  (ARRAY['revenue', 'orders', 'avg_ticket', 'waste', 'labour', 'nps', 'margin', 'growth'])[1 + (g / 500) % 8],
  date '2023-01-01' + ((g / 4000) % 36) * interval '1 month',
  round((random() * 1000)::numeric, 2),
  1 + (g % 40)
FROM generate_series(1, current_setting('indexdeck.rows')::int) AS g;

INSERT INTO franchise_budgets
SELECT
  g,
  1 + (g % 500),
  1 + (g % 40),
  'cc-' || lpad(((g / 500) % 20)::text, 2, '0'),
  date '2023-01-01' + ((g / 10000) % 36) * interval '1 month',
  round((random() * 50000)::numeric, 2),
  round((random() * 55000)::numeric, 2)
FROM generate_series(1, current_setting('indexdeck.rows')::int) AS g;

INSERT INTO inventory_batches
SELECT
  g,
  1 + (g % 500),
  1 + (g % 40),
  'SKU-' || lpad(((g / 500) % 5000)::text, 5, '0'),
  'B' || g,
  round((random() * 500)::numeric, 3),
  round((random() * 30)::numeric, 4),
  timestamptz '2023-01-01' + (g % 100000) * interval '10 minutes',
  date '2024-01-01' + (g % 700)
FROM generate_series(1, current_setting('indexdeck.rows')::int) AS g;

INSERT INTO purchase_orders
SELECT
  g,
  1 + (g % 500),
  1 + (g % 300),
  (ARRAY['draft', 'submitted', 'approved', 'received', 'cancelled'])[1 + (g / 500) % 5],
  round((random() * 20000)::numeric, 2),
  timestamptz '2023-01-01' + g * interval '13 seconds',
  timestamptz '2023-01-01' + g * interval '13 seconds' + interval '2 hours'
FROM generate_series(1, current_setting('indexdeck.rows')::int) AS g;

INSERT INTO payments
SELECT
  g,
  1 + (g % 500),
  g * 3,
  (ARRAY['pending', 'captured', 'refunded', 'failed', 'voided'])[1 + (g / 500) % 5],
  (ARRAY['card', 'cash', 'wallet'])[1 + g % 3],
  round((random() * 300)::numeric, 2),
  timestamptz '2023-01-01' + g * interval '7 seconds'
FROM generate_series(1, current_setting('indexdeck.rows')::int) AS g;

ALTER TABLE franchise_overview ADD PRIMARY KEY (id);
ALTER TABLE franchise_rankings ADD PRIMARY KEY (id);
ALTER TABLE franchise_budgets  ADD PRIMARY KEY (id);
ALTER TABLE inventory_batches  ADD PRIMARY KEY (id);
ALTER TABLE purchase_orders    ADD PRIMARY KEY (id);
ALTER TABLE payments           ADD PRIMARY KEY (id);

ANALYZE;

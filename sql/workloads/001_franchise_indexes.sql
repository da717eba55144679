-- Query patterns that sql/indexes/001_franchise_indexes.sql is meant to speed up.
-- Each block: a name, the index it should use, a query that samples parameters from the target,
-- then the query itself with $n placeholders in the sampled columns' order.

-- name: franchise_overview
-- index: idx_fr_overview_org_period
-- params: SELECT org_id, period FROM franchise_overview TABLESAMPLE SYSTEM (1) LIMIT 200
SELECT * FROM franchise_overview WHERE org_id = $1 AND period = $2;

-- name: franchise_rankings
-- index: idx_fr_rankings_org_metric_period
-- params: SELECT org_id, metric, period FROM franchise_rankings TABLESAMPLE SYSTEM (1) LIMIT 200
SELECT * FROM franchise_rankings WHERE org_id = $1 AND metric = $2 AND period = $3;

-- name: franchise_budgets
-- index: idx_fr_budgets_org_cc_period
-- params: SELECT org_id, cost_center, period FROM franchise_budgets TABLESAMPLE SYSTEM (1) LIMIT 200
SELECT * FROM franchise_budgets WHERE org_id = $1 AND cost_center = $2 AND period = $3;

-- name: inventory_batches
-- index: idx_inv_batches_org_sku
-- params: SELECT org_id, sku FROM inventory_batches TABLESAMPLE SYSTEM (1) LIMIT 200
SELECT * FROM inventory_batches WHERE org_id = $1 AND sku = $2;

-- name: purchase_orders
-- index: idx_po_org_status_created
-- params: SELECT org_id, status FROM purchase_orders TABLESAMPLE SYSTEM (1) LIMIT 200
SELECT * FROM purchase_orders WHERE org_id = $1 AND status = $2 ORDER BY created_at DESC LIMIT 50;

-- name: payments
-- index: idx_payments_org_status_created
-- params: SELECT org_id, status FROM payments TABLESAMPLE SYSTEM (1) LIMIT 200
SELECT * FROM payments WHERE org_id = $1 AND status = $2 ORDER BY created_at DESC LIMIT 50;

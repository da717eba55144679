-- E22.E franchise indexes
-- Purpose: speed up the franchise overview, rankings and budgets endpoints and the inventory,
--          purchasing and payments lookups (query patterns: sql/workloads/001_franchise_indexes.sql).
-- Safety:  CREATE INDEX CONCURRENTLY (writes continue), IF NOT EXISTS (safe to re-run),
--          lock_timeout and statement_timeout guards. Never run inside a transaction.
-- Prerequisites: PostgreSQL 12+ (not 14.0-14.3), >= 10% free disk, a recent backup.

SET lock_timeout = '2s';
SET statement_timeout = '30s';

-- GET /franchise/overview: WHERE org_id = ? AND period = ?
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_fr_overview_org_period
  ON franchise_overview (org_id, period);

-- GET /franchise/rankings: WHERE org_id = ? AND metric = ? AND period = ?
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_fr_rankings_org_metric_period
  ON franchise_rankings (org_id, metric, period);

-- GET /franchise/budgets: WHERE org_id = ? AND cost_center = ? AND period = ?
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_fr_budgets_org_cc_period
  ON franchise_budgets (org_id, cost_center, period);

-- Inventory batch lookups: WHERE org_id = ? AND sku = ?
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_inv_batches_org_sku
  ON inventory_batches (org_id, sku);

-- Purchase order queries: WHERE org_id = ? AND status = ? ORDER BY created_at
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_po_org_status_created
  ON purchase_orders (org_id, status, created_at);

-- Payment queries: WHERE org_id = ? AND status = ? ORDER BY created_at
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_payments_org_status_created
  ON payments (org_id, status, created_at);

-- The sums behind each index's rates, so a snapshot adds its deltas to them instead of reading a month
-- of buckets again: scans and seconds of the hourly buckets in the 24-hour window and of the daily
-- buckets in the 7- and 30-day windows, as of the hour and the day they were last summed from the
-- buckets (the windows move only when those change). NULL until the next full recompute.
ALTER TABLE usage_rate
  ADD COLUMN hour_of     timestamptz,
  ADD COLUMN day_of      timestamptz,
  ADD COLUMN scans_24h   bigint,
  ADD COLUMN seconds_24h double precision,
  ADD COLUMN scans_7d    bigint,
  ADD COLUMN seconds_7d  double precision,
  ADD COLUMN scans_30d   bigint,
  ADD COLUMN seconds_30d double precision;

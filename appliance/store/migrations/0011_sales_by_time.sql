-- The web admin reads sales by time (a day's receipts, a period's totals and the accountant's
-- export): an index keeps that fast with years of sales.
CREATE INDEX sales_by_time ON sales (device_id, created_at);

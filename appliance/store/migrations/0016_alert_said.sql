-- An alert's detail as it was said (appliance/said.py: its English template and values, JSON),
-- so that the web admin shows it in the reader's language; `message` keeps the English text.
-- NULL for alerts raised before, which show their message. Older releases ignore the column.
ALTER TABLE alerts ADD COLUMN said TEXT;

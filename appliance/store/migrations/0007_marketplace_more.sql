-- On-site sales sent into the hub's shop-sales order ([marketplace] shop_sales_order): the
-- units of one variant whose addition to the order may or may not have landed. `base` is the
-- quantity of that variant in the order, read right before sending: the send landed when the
-- order shows base + units. A row is deleted once the units are known to be in the order.
CREATE TABLE marketplace_shop_sales (
    order_number TEXT NOT NULL,
    variant_id INTEGER NOT NULL,
    units INTEGER NOT NULL CHECK (units > 0),
    base INTEGER NOT NULL CHECK (base >= 0),
    PRIMARY KEY (order_number, variant_id)
);

"""What the marketplace sync remembers between rounds (migrations 0004 and 0007).

One module per part of `appliance/marketplace/`: `directions` (each direction's cursor, last
success and last error, and what is still waiting), `variants` (each marketplace variant and the
local product it maps to: read by the catalogue, written by the stock), `orders_read` (orders to
hand out, as last read), `pickups` and `on_site_sales` (copied from the outbox, so that one stuck
report never holds back the others) and `shop_sales_order` (units sent into that order whose
outcome is not known yet).
"""

from appliance.store.sync_state import (
    directions,
    on_site_sales,
    orders_read,
    pickups,
    shop_sales_order,
    variants,
)

__all__ = ["directions", "on_site_sales", "orders_read", "pickups", "shop_sales_order", "variants"]

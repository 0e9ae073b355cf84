"""The fake marketplace's routes, one blueprint per group of OFN's API.

`gate` (faults, API keys, the Date header), `catalogue` (v0 products and variants), `orders`
(v0 orders, shipments, shops), `dfc` (the DFC enterprise, catalogue items and offers); `common`
holds the replies and the ransack and pagination rules they share.
"""

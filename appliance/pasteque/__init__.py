"""The till gateway: the box as one more cash register of the shop's Pastèque server (API v8).

`euros` (how cents become the API's euros), `client` (HTTP, token rotation), `mapping` (taxes,
payment modes, categories of the server matched to Comptoir's), `tickets` (a sale, a refund or a
handed-out online order as a Pastèque ticket), `sessions` (cash sessions that follow the box's
daily closing), `gateway` (the outbox-driven queue, posted in order, exactly once) and `fake/` (a
contract-faithful fake server for tests and `make demo`). See docs/pasteque.md.
"""

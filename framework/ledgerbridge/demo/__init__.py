"""``ledgerbridge demo``: three sandboxes, an embedded installation wired to them, a seeded shop
whose orders go through the real pipeline, and the check of every document they produced."""

"""The pipeline: what workers do with an order, from the shop to the ledger and back.

``jobs`` holds the job entry points (ids in, nothing out); the other modules hold one stage
each: sync (fetch and normalize), exports (document, quota, binding, target), write-back,
polling, bulk sync, daily summaries, and the sweeper that re-queues lost work.
"""

"""The runtime: configuration, store, queue and services wired together for one process."""

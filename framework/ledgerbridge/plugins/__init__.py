"""The plugin host: hookspecs (the contract), loading, and the typed facade over ``pm.hook``."""

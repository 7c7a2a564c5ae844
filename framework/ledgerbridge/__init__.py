"""ledgerbridge: moves web-shop orders into accounting systems, correctly and exactly once.

Connector authors need two names from here: ``hookimpl`` to mark hook implementations, and the
types in :mod:`ledgerbridge.plugins.types` to register connectors.
"""

import warnings

# authlib ≥ 1.9 warns on import when the "httpx2" fork is not installed; ledgerbridge uses
# httpx on purpose (one HTTP client everywhere) and the warning would only confuse users.
# authlib installs an "always" filter when its deprecate module is imported, so ours must be
# added after that import to take precedence.
import authlib.deprecate  # noqa: F401

from ledgerbridge.plugins.markers import hookimpl

warnings.filterwarnings("ignore", message="The httpx module is deprecated; please use httpx2")

__version__ = "0.1.0"

__all__ = ["__version__", "hookimpl"]

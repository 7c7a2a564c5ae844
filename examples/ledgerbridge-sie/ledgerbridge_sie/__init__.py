"""ledgerbridge-sie: a ledgerbridge target that writes accounting documents as SIE 4 files."""

__version__ = "0.1.0"

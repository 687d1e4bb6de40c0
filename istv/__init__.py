"""istv-pipeline: the application package (settings, storage zones, run ledger, nightly stages, CLI)."""

__version__ = "0.1.0"

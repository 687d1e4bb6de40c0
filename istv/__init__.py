"""The application package: settings, zones, run ledger, nightly stages, CLI, demo."""

__version__ = "0.1.0"

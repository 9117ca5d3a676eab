"""Modal forms: each collects, validates and runs one ledger command."""

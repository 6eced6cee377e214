"""Fuzz targets (hypothesis; atheris harnesses beside them). Budget: `budget.fuzz_settings`."""

"""Hostile-input tests: huge, malformed or malicious inputs get an error or a verdict in bounded time."""

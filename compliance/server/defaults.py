"""Server defaults, kept free of heavy imports so the CLI can show them in ``--help``."""

#: Marketing messages and facts are small; a body of 64 KiB is already unusual.
DEFAULT_MAX_BODY_BYTES = 64 * 1024
#: Linting a message takes well under a millisecond once the packs are loaded.
DEFAULT_REQUEST_TIMEOUT_S = 5.0
#: The ledger a reserve request uses when it names none (and the name of a lone ``--ledger URL``).
DEFAULT_LEDGER = "default"
#: Timed-out computations still running in the background before new requests get 503.
DEFAULT_MAX_ABANDONED = 32
#: Findings in one lint answer, and the most a request may ask for (``--max-findings``).
DEFAULT_MAX_FINDINGS = 200

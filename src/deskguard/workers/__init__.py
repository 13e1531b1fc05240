"""Background workers: loops that run beside the API in the same process (or alone)."""

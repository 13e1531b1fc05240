"""The detection engine: normalised events in, explained alerts out (pure: no I/O, no clock)."""

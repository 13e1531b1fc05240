"""What every real connector shares: secret references, retries with back-off, HTTP error mapping."""

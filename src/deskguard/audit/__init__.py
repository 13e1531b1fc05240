"""The evidence ledger's pure core: RFC 9162 Merkle trees, RFC 8785 canonical JSON, proofs and checks."""

"""Proof of the claims: `make bench` (cost against the API's floor and row-by-row tools) and `make soak` (faults lose nothing)."""

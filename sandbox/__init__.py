"""Package sandbox."""

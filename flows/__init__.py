"""Package flows."""

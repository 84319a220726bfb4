"""Package coalition."""

"""Package integrations."""

"""Campaign and legislative alerts, pure: decisions about campaigns, bills and Open States results."""

"""Intake routing, pure: validate and normalise rows, classify, weigh urgency and income, match, decide, explain."""

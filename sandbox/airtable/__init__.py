"""Emulated Airtable Web API: records, meta API, filterByFormula, rate limits (see models.py, routes.py)."""

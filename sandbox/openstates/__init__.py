"""Emulated Open States API v3 (legislation): `GET /bills` and bill detail, under /openstates."""

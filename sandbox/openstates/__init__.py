"""Emulated openstates service."""

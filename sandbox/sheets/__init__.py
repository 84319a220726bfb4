"""Emulated sheets service."""

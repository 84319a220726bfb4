"""Emulated docs service."""

"""Emulated drive service."""

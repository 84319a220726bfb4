"""Emulated airtable service."""

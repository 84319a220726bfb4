"""Emulated slack service."""

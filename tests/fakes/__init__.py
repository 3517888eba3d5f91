"""Scripted backends that run on virtual time, for fast deterministic session tests."""

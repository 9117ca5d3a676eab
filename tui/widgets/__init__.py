"""Reusable widgets with their own scoped DEFAULT_CSS."""

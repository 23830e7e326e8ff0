"""Numbered SQL migrations (``NNNN_name.sql``) for the portfolio store, applied in order."""

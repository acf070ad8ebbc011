"""The revision scripts, oldest first (Alembic loads them by path; this file makes them package data)."""

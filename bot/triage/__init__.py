"""Triage: text in, a Classification out. Pure: no Flask, no Redis."""

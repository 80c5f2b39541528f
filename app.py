"""WSGI entry point: `gunicorn app:app`."""

from bot import create_app

app = create_app()

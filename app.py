"""WSGI entry point: `gunicorn app:app`; also what `flask --app app ...` loads."""

from bot import create_app, envfile

envfile.load()  # the repository's .env, as ./run reads it (already set variables win)
app = create_app()

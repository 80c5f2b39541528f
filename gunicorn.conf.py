"""gunicorn settings shared by ./run, the Procfile and the load benchmark."""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Sync workers were steadier than gthread under load on 2 cores (field notes).
worker_class = "sync"
timeout = 30
accesslog = None
# Load the app (and the classifier: encoder weights, head, example vectors) once in the master
# before forking, so every worker shares those pages instead of holding its own copy. The
# encoder runs one OpenMP thread per worker (set by bot/triage/encoder.py), which is fork-safe.
preload_app = True

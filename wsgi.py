"""Entry point for WSGI servers: ``gunicorn wsgi:app``."""

from awards import create_app

app = create_app()

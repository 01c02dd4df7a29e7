"""The production Africa's Talking voice webhook service (Falcon 4, WSGI, run by gunicorn)."""

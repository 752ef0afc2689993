"""The domain: models, protocol schemas, storage. Imports neither FastAPI nor Celery."""

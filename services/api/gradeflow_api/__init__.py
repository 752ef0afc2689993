"""The HTTP edge: FastAPI app factory, dependencies, routes."""

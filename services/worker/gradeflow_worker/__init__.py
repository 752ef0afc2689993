"""The worker: Celery edge (tasks.py) over the trusted harness (harness.py, kernel.py, student.py, checks.py)."""

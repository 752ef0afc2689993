"""The `gradeflow` command line."""

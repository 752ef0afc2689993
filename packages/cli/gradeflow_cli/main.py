"""`gradeflow`: run the service's parts, and work with it as staff.

Service commands (this machine): `up` (all of it, supervised: cli/up.py), `serve`, `worker`, `db upgrade`,
`demo` (cli/service.py).
Staff commands (talk to the API with the token `gradeflow login` saves): `assignment`, `regrade`,
`submissions`, `queue`, `roster`, `course`, `policy`, `extension`, `override`, `gradebook`, `account`.
"""
from __future__ import annotations

from gradeflow_cli import assignments, auth, courses, grades, regrade, service, submissions
from gradeflow_cli.app import GradeflowTyper

app = GradeflowTyper(help="gradeflow: the autograder's command line.")
service.register(app)
auth.register(app)
app.add_typer(assignments.assignment_app, name="assignment")
for _module in (regrade, submissions, courses, grades):
    _module.register(app)


if __name__ == "__main__":
    app()

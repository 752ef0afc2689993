"""`gradeflow-api serve | db-upgrade | demo`: the API image's entry point (the CLI is not installed there)."""
from __future__ import annotations

import argparse
from pathlib import Path

from gradeflow_api import service
from gradeflow_api.settings import get_settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="gradeflow-api", description="gradeflow's API service")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    commands.add_parser("db-upgrade", help="create or upgrade the database schema")
    demo = commands.add_parser("demo", help="create the demo course")
    demo.add_argument("--assignments", type=Path, default=Path("assignments"))
    args = parser.parse_args(argv)
    settings = get_settings()
    if args.command == "serve":
        service.serve(settings, host=args.host, port=args.port)
    elif args.command == "db-upgrade":
        print(f"schema up to date: {service.upgrade_schema(settings)}")
    else:
        print(f"demo course 'mathdl' ready; password: {service.seed_demo_course(settings, args.assignments)}")


if __name__ == "__main__":
    main()

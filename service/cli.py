"""``at-voice-service``: check the webhook service's settings and call flows without starting it.

* ``at-voice-service check``: every setting read from the environment (gunicorn's too:
  ``VOICE_BIND``, ``VOICE_WORKERS``...), the flow (``VOICE_FLOW_FILE``) and the database
  (reached and migrated; ``--no-database`` skips it), each problem naming its variable.
  Exit 0 when the service can start, 2 otherwise: the checks gunicorn's master runs before
  it binds a port.
* ``at-voice-service check-flow FLOW...``: a flow file (a path, or a shipped flow's name),
  as ``atsim lint`` checks ActionXML. Exit 0 when every flow is valid, 1 otherwise.
* ``at-voice-service flows``: the shipped flows.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from at_voice_kit.contracts import kit_version
from at_voice_kit.service.server_settings import ServerSettings
from at_voice_kit.service.startup import (
    EXIT_CANNOT_START,
    check_startup,
    describe,
    flow_problem,
    shipped_flows,
)

EXIT_INVALID_FLOW = 1


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``at-voice-service``."""
    parser = argparse.ArgumentParser(
        prog="at-voice-service",
        description="Check the voice webhook service's settings and call flows.",
    )
    parser.add_argument(
        "--version", action="version", version=f"at-voice-service (at-voice-kit) {kit_version()}"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    check = commands.add_parser(
        "check", help="check the settings in the environment, the flow and the database"
    )
    check.add_argument(
        "--no-database", action="store_true", help="do not reach or migrate the database"
    )
    check_flow = commands.add_parser(
        "check-flow", help="check flow files (paths, or names of shipped flows)"
    )
    check_flow.add_argument("flows", nargs="+", metavar="FLOW")
    commands.add_parser("flows", help="list the flows shipped with the service")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``at-voice-service`` console script; the process exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "check":
        report = check_startup(
            os.environ,
            extra_problems=ServerSettings.from_env(os.environ).problems,
            database=not args.no_database,
        )
        if not report.ok:
            print(describe(report.problems), file=sys.stderr)
            return EXIT_CANNOT_START
        print("voice service settings: ok" + ("" if args.no_database else ", database ready"))
        return 0
    if args.command == "check-flow":
        status = 0
        for flow in args.flows:
            problem = flow_problem(flow)
            print(f"{flow}: ok" if problem is None else problem)
            status = status if problem is None else EXIT_INVALID_FLOW
        return status
    print("\n".join(shipped_flows()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Everything the service needs, checked before it binds a port, every problem at once.

gunicorn's master runs :func:`check_or_exit` once before any worker starts
(``service/gunicorn_conf.py``), and ``at-voice-service check`` runs the same checks without
starting anything. A problem names its variable (``VOICE_FLOW_FILE: ...``); the operator
sees every one in a few lines, not a traceback per attempt, and workers never find a bad
flow after the port is bound.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy.exc

from at_voice_kit.contracts.redaction import masked_url
from at_voice_kit.service.config import Config, ConfigError
from at_voice_kit.service.flows import CallFlow, FlowError, load_flow, resolve_flow_path
from at_voice_kit.service.flows.definition import SHIPPED_FLOWS_DIR
from at_voice_kit.service.store import EventStore, create_database_engine

EXIT_CANNOT_START = 2


@dataclass(frozen=True, slots=True)
class StartupReport:
    """The outcome of the checks: the configuration (when it could be read) and every problem
    as ``(variable, problem)``."""

    config: Config | None
    problems: tuple[tuple[str, str], ...]

    @property
    def ok(self) -> bool:
        """Whether the service can start."""
        return not self.problems


def shipped_flows() -> list[str]:
    """The names of the flows shipped with the service (``VOICE_FLOW_FILE=menu``)."""
    return sorted(path.stem for path in SHIPPED_FLOWS_DIR.glob("*.yaml"))


def flow_problem(setting: str | None) -> str | None:
    """Why the flow ``setting`` names (a shipped flow's name or a path) cannot be used, or
    ``None``: the same checks the service runs at start-up."""
    try:
        CallFlow(load_flow(resolve_flow_path(setting)))
    except FlowError as exc:
        return f"{exc} (shipped flows: {', '.join(shipped_flows())}; or give a path)"
    return None


def database_problem(config: Config) -> str | None:
    """Why the database cannot be reached and migrated, or ``None`` once it is migrated."""
    engine = create_database_engine(
        config.database_url,
        pool_size=config.pool_size,
        statement_timeout_ms=config.statement_timeout_ms,
    )
    try:
        EventStore(engine).migrate()
    except (sqlalchemy.exc.SQLAlchemyError, OSError) as exc:
        reason = getattr(exc, "orig", None) or exc
        first_line = str(reason).strip().splitlines()[0] if str(reason).strip() else type(exc)
        return f"cannot use the database {masked_url(config.database_url)}: {first_line}"
    finally:
        engine.dispose()
    return None


def check_startup(
    environ: Mapping[str, str],
    *,
    extra_problems: Iterable[tuple[str, str]] = (),
    database: bool = True,
) -> StartupReport:
    """Check the settings, the flow and (``database``) the database, collecting every problem.

    ``extra_problems`` are found elsewhere first (gunicorn's own settings). The database is
    only tried when everything else is right: its URL may be what is wrong.
    """
    problems = list(extra_problems)
    config: Config | None = None
    try:
        config = Config.from_env(environ)
    except ConfigError as exc:
        # VOICE_THREADS is read by gunicorn's settings and the app: one problem, said once.
        named = {variable for variable, _ in problems}
        problems.extend(p for p in exc.problems if p[0] not in named)
    flow_setting = environ.get("VOICE_FLOW_FILE", "").strip() or None
    flow = flow_problem(flow_setting)
    if flow is not None:
        problems.append(("VOICE_FLOW_FILE", flow))
    if database and config is not None and not problems:
        failure = database_problem(config)
        if failure is not None:
            problems.append(("DATABASE_URL", failure))
    return StartupReport(config, tuple(problems))


def describe(problems: Iterable[tuple[str, str]]) -> str:
    """The problems as the operator reads them: a headline, then one indented line each."""
    listed = list(problems)
    noun = "problem" if len(listed) == 1 else "problems"
    lines = [f"voice service cannot start: {len(listed)} {noun}"]
    lines += [f"  {variable}: {problem}" for variable, problem in listed]
    return "\n".join(lines)


def check_or_exit(
    environ: Mapping[str, str], extra_problems: Iterable[tuple[str, str]] = ()
) -> Config:
    """The checked configuration; or every problem printed on standard error and the process
    ended with status 2, without a traceback."""
    report = check_startup(environ, extra_problems=extra_problems)
    if not report.ok or report.config is None:
        print(describe(report.problems), file=sys.stderr, flush=True)
        raise SystemExit(EXIT_CANNOT_START)
    return report.config

"""Running the flows on their schedules: `coalition serve` (one machine) and `coalition deploy` (workers on many).

Both build one deployment per flow from config: the cron of config/schedules.yaml
in the timezone of config/services.yaml, one running instance at a time (a run
that comes due while the last one is still going is cancelled, not queued behind
it), tags, and the entrypoint `flows.deployed.<flow>` so whoever runs it gets the
alert hooks. prefect.yaml holds the same deployments for `prefect deploy --all`;
tests/unit/test_ops_prefect_yaml.py keeps the two in step.

A run whose host dies stops sending Prefect's heartbeat events; `coalition deploy`
adds the server-side automation that marks such a run Crashed (`zombie_automation`),
and every run of ours sends a heartbeat every HEARTBEAT_SECONDS: deployments on the
work pool carry it in their job variables, `coalition serve` sets it for its runner.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.console import Console

from coalition.settings import ConfigError, Settings, settings
from flows.registry import FLOWS

DEPLOYMENT_NAME = "coalition"
WORK_POOL = "coalition"
BASE_TAGS = ("coalition",)
AREA_TAGS = {
    "roster-sync": "roster",
    "intake-routing": "intake",
    "referral-follow-up": "intake",
    "alerts": "alerts",
    "weekly-summary": "summary",
}
ONE_AT_A_TIME = {"limit": 1, "collision_strategy": "CANCEL_NEW"}
# Secrets every flow needs outside the sandbox (the Slack signing secret is the Slack app's).
FLOW_SECRETS = ("airtable_token", "google_service_account", "slack_bot_token")
# Zombie runs: a run of ours sends a heartbeat event every HEARTBEAT_SECONDS (Prefect's
# minimum); one that has sent none for MISSED_HEARTBEATS intervals lost its process.
HEARTBEAT_SECONDS = 30
MISSED_HEARTBEATS = 3
HEARTBEAT_ENV = "PREFECT_FLOWS_HEARTBEAT_FREQUENCY"  # PREFECT_RUNNER_... is its old name
HEARTBEAT_EVENT = "prefect.flow-run.heartbeat"
# The events after which a run sends no more heartbeats (event names are state names).
RUN_ENDED_EVENTS = tuple(
    f"prefect.flow-run.{state}"
    for state in ("Completed", "Failed", "Cancelled", "Crashed", "TimedOut")
)
ZOMBIE_AUTOMATION = "coalition: crash runs whose worker died"
# Every process that runs a deployment of ours gets this, whatever its worker's environment.
RUN_ENV = {HEARTBEAT_ENV: str(HEARTBEAT_SECONDS)}
NO_SERVER = (
    "`coalition {command}` needs a Prefect server: run `prefect server start` (in another "
    "terminal or as a service) and set PREFECT_API_URL=http://127.0.0.1:4200/api "
    "(README, Operations)"
)


@dataclass(frozen=True)
class DeploymentSpec:
    """One flow's deployment, as config asks for it."""

    flow: str
    entrypoint: str
    cron: str
    timezone: str
    description: str
    tags: tuple[str, ...]


def deployment_specs(cfg: Settings, names: Iterable[str] | None = None) -> list[DeploymentSpec]:
    """A deployment per flow of the registry (or of `names`), schedules and timezone from config."""
    specs = []
    for name in names or FLOWS:
        entry = FLOWS[name]
        area = AREA_TAGS.get(name)
        specs.append(
            DeploymentSpec(
                flow=name,
                entrypoint=f"flows.deployed.{entry.attribute}",
                cron=cfg.schedules.for_flow(name),
                timezone=cfg.services.timezone,
                description=entry.summary,
                tags=(*BASE_TAGS, area) if area else BASE_TAGS,
            )
        )
    return specs


def schedule_of(spec: DeploymentSpec) -> Any:
    """Prefect's cron schedule for a spec; a ConfigError naming the file if Prefect refuses it."""
    from prefect.client.schemas.schedules import CronSchedule

    try:
        return CronSchedule(cron=spec.cron, timezone=spec.timezone)
    except ValueError as exc:
        reason = str(exc).splitlines()[-1].strip()
        raise ConfigError(
            f"config/schedules.yaml: key '{spec.flow}' has {spec.cron!r} in {spec.timezone}; "
            f"Prefect refuses it ({reason})"
        ) from None


class ProjectCode:
    """Where deployments find their code: the project installed on each host (one pull step, no copy)."""

    def __init__(self) -> None:
        self._base_path = Path.cwd()

    def set_base_path(self, path: Path) -> None:
        self._base_path = path

    @property
    def destination(self) -> Path:
        return self._base_path

    @property
    def pull_interval(self) -> int | None:
        return None

    async def pull_code(self) -> None:
        return None

    def to_pull_step(self) -> list[dict[str, Any]]:
        from flows.deployed import PULL_STEP

        return [PULL_STEP]


def runner_deployment(
    spec: DeploymentSpec, work_pool: str | None = None, one_at_a_time: bool = True
) -> Any:
    """The Prefect deployment for a spec (for `serve`, or for a work pool when one is named)."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig
    from prefect.deployments.runner import RunnerDeployment

    deployment = RunnerDeployment.from_entrypoint(
        entrypoint=spec.entrypoint,
        name=DEPLOYMENT_NAME,
        schedules=[schedule_of(spec)],
        concurrency_limit=ConcurrencyLimitConfig(**ONE_AT_A_TIME) if one_at_a_time else None,
        description=spec.description,
        tags=list(spec.tags),
        paused=False,
        work_pool_name=work_pool,
        # Heartbeats as the zombie automation expects them, on any worker (serve sets its own).
        job_variables={"env": dict(RUN_ENV)} if work_pool else None,
    )
    deployment.storage = ProjectCode()
    return deployment


# ---------------------------------------------------------------- checks before running
def require_server(command: str) -> str:
    """PREFECT_API_URL, checked to answer; ConfigError saying how to start one otherwise."""
    url = os.environ.get("PREFECT_API_URL")
    if not url:
        raise ConfigError(NO_SERVER.format(command=command))
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        failure = client.api_healthcheck()
    if failure is not None:
        raise ConfigError(
            f"the Prefect server at PREFECT_API_URL={url} does not answer "
            f"({type(failure).__name__}); is `prefect server start` running?"
        )
    return url


def missing_secrets(cfg: Settings) -> list[str]:
    """Secrets the flows need that neither this environment nor a Prefect Secret block holds."""
    if cfg.sandbox_url:
        return []
    wanted = list(FLOW_SECRETS)
    if cfg.services.openstates.enabled:
        wanted.append("openstates_api_key")
    return [name for name in wanted if getattr(cfg.secrets, name) is None and not _block(name)]


def _block(name: str) -> bool:
    from integrations.shared_budget import operator_prefect_api

    if operator_prefect_api() is None:
        return False
    from prefect.blocks.system import Secret

    try:
        Secret.load(name.replace("_", "-"))
    except Exception:  # absent, or the server refused: not there
        return False
    return True


def warn_missing_secrets(cfg: Settings, console: Console) -> None:
    for name in missing_secrets(cfg):
        console.print(
            f"[yellow]warning:[/] {name.upper()} is not set here nor a Prefect Secret block "
            f"'{name.replace('_', '-')}': runs will fail (and say so in #ops-alerts) until "
            "every worker has it"
        )


def ensure_shared_budgets(cfg: Settings, console: Console) -> None:
    """Create the shared Airtable budget of the configured base (best effort: also made on first use)."""
    from integrations.airtable import open_base
    from integrations.clients import airtable_api
    from integrations.shared_budget import airtable_limit, ensure_limit

    try:
        base = open_base(airtable_api(cfg), cfg.services.airtable.base)
        limit = airtable_limit(base.id, cfg.time_scale)
        ensure_limit(limit)
    except Exception as exc:  # workers create it on first use anyway
        console.print(
            f"[yellow]note:[/] the shared Airtable budget will be created on first use "
            f"(could not reach the base now: {type(exc).__name__})"
        )
        return
    console.print(f"shared budget {limit.name}: {limit.decay} requests/s across all workers")


# ---------------------------------------------------------------- dead workers
def zombie_automation(
    heartbeat_seconds: int = HEARTBEAT_SECONDS, within_seconds: int | None = None
) -> Any:
    """The automation that marks Crashed a run of ours whose heartbeats stopped (its host died).

    Proactive: after a run's heartbeat, expect another heartbeat or the event of a final
    state within `within_seconds` (MISSED_HEARTBEATS heartbeats by default), one window per
    flow run. Only runs tagged `coalition` (every deployment of ours) are watched: a run
    started elsewhere may send heartbeats at Prefect's default pace of 180 s.
    """
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    within = within_seconds or heartbeat_seconds * MISSED_HEARTBEATS
    return AutomationCore(
        name=ZOMBIE_AUTOMATION,
        description=(
            f"Created by `coalition deploy`. A flow run tagged {BASE_TAGS[0]} that sends no "
            f"heartbeat for {within} s (one is due every {heartbeat_seconds} s) lost its "
            "process, usually because its worker host died: mark it Crashed."
        ),
        enabled=True,
        trigger=EventTrigger(
            after={HEARTBEAT_EVENT},
            expect={HEARTBEAT_EVENT, *RUN_ENDED_EVENTS},
            match=ResourceSpecification({"prefect.resource.id": "prefect.flow-run.*"}),
            match_related=ResourceSpecification(
                {
                    "prefect.resource.role": "tag",
                    "prefect.resource.id": f"prefect.tag.{BASE_TAGS[0]}",
                }
            ),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=within),
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.CRASHED,
                name="Crashed",
                message=(
                    f"The run's worker stopped sending heartbeats (none for {within} s): its host "
                    "or process died. Marked Crashed by the automation "
                    f"'{ZOMBIE_AUTOMATION}'; the next run carries on from the ledger."
                ),
            )
        ],
    )


def describe_zombie_automation(automation: Any) -> str:
    """One line for the console: what the automation does."""
    return (
        f"automation '{automation.name}': a run tagged {BASE_TAGS[0]} with no heartbeat for "
        f"{int(automation.trigger.within.total_seconds())} s is marked Crashed"
    )


def _comparable(automation: Any) -> Any:
    """The automation's own fields (no id, no owner), as a model: sets compare as sets."""
    from prefect.events.schemas.automations import AutomationCore

    return AutomationCore.model_validate(automation.model_dump(exclude={"id", "owner_resource"}))


def ensure_zombie_automation(
    console: Console | None = None,
    heartbeat_seconds: int = HEARTBEAT_SECONDS,
    within_seconds: int | None = None,
) -> str:
    """Create or update the zombie-run automation (found by its name): 'created', 'updated' or 'unchanged'."""
    from prefect.client.orchestration import get_client

    console = console or Console(highlight=False)
    wanted = zombie_automation(heartbeat_seconds, within_seconds)
    with get_client(sync_client=True) as client:
        found = sorted(client.read_automations_by_name(ZOMBIE_AUTOMATION), key=lambda a: str(a.id))
        for extra in found[1:]:  # two coalition deploys at once: keep one
            client.delete_automation(extra.id)
        if not found:
            client.create_automation(wanted)
            outcome = "created"
        elif _comparable(found[0]) == _comparable(wanted):
            outcome = "unchanged"
        else:
            client.update_automation(found[0].id, wanted)
            outcome = "updated"
    console.print(f"{outcome} {describe_zombie_automation(wanted)}")
    return outcome


def runner_heartbeat_seconds(console: Console | None = None) -> int | None:
    """The heartbeat interval for the runs of `coalition serve`: the operator's setting, else HEARTBEAT_SECONDS.

    Prefect's own default (180 s) is too slow for the zombie automation, so when the
    operator set nothing the variable is set for this process and its flow runs too.
    """
    from prefect.settings import get_current_settings

    flows = get_current_settings().flows
    if "heartbeat_frequency" not in flows.model_fields_set:
        os.environ[HEARTBEAT_ENV] = str(HEARTBEAT_SECONDS)
        return HEARTBEAT_SECONDS
    seconds = flows.heartbeat_frequency
    if console is not None and (seconds is None or seconds > HEARTBEAT_SECONDS):
        console.print(
            f"[yellow]warning:[/] {HEARTBEAT_ENV}={seconds}: the automation "
            f"'{ZOMBIE_AUTOMATION}' expects a heartbeat every {HEARTBEAT_SECONDS} s and may "
            f"mark this machine's runs Crashed; unset it or set {HEARTBEAT_SECONDS}"
        )
    return seconds


# ---------------------------------------------------------------- one machine
@contextmanager
def single_instance(lock_file: Path) -> Iterator[None]:
    """Hold a lock for this machine's `coalition serve`; ConfigError if another one holds it."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    handle = lock_file.open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise ConfigError(
                f"another `coalition serve` is already running on this machine (pid {holder}); "
                "it runs every flow already. Stop it first, or use workers to spread the load "
                "(README, Operations)"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()


# How long Ctrl-C waits for the Prefect server to pause the deployments before giving up.
PAUSE_SECONDS = 5.0


def bounded_runner(console: Console, **kwargs: Any) -> Any:
    """A Prefect Runner whose shutdown gives the server PAUSE_SECONDS to pause the deployments.

    Prefect's own retries against a server that is already gone would hold Ctrl-C for
    minutes at "Pausing all deployments"; the schedules are on the server anyway.
    """
    import anyio
    from prefect.runner import Runner

    class BoundedRunner(Runner):
        async def _pause_schedules(self) -> None:
            try:
                with anyio.fail_after(PAUSE_SECONDS):
                    await super()._pause_schedules()
            except (TimeoutError, OSError, RuntimeError) as exc:
                reason = "did not answer" if isinstance(exc, TimeoutError) else "is unreachable"
                console.print(
                    f"The Prefect server {reason} within {PAUSE_SECONDS:g} s: deployments were"
                    " not paused (they stay scheduled; pause them in the dashboard if needed)."
                )
            except Exception as exc:  # httpx errors: the server is gone; stopping matters more
                console.print(
                    f"Deployments were not paused ({type(exc).__name__}); stopping anyway."
                )

    return BoundedRunner(**kwargs)


def serve_all(console: Console | None = None) -> None:
    """Serve every flow on its schedule in this process until Ctrl-C (needs a Prefect server)."""
    import asyncio

    from prefect.exceptions import TerminationSignal

    console = console or Console(highlight=False)
    cfg = settings()
    specs = deployment_specs(cfg)
    require_server("serve")
    with single_instance(Path(cfg.secrets.coalition_var_dir) / "serve.lock"):
        deployments = [runner_deployment(spec) for spec in specs]
        heartbeat = runner_heartbeat_seconds(console)
        warn_missing_secrets(cfg, console)
        ensure_shared_budgets(cfg, console)
        ensure_zombie_automation(console)  # if this process dies, its runs end Crashed
        runner = bounded_runner(console, pause_on_shutdown=True, heartbeat_seconds=heartbeat)
        for deployment in deployments:
            runner.add_deployment(deployment)
        for spec in specs:
            console.print(f"serving {spec.flow}: '{spec.cron}' ({spec.timezone})")
        console.print("Serving every flow; Ctrl-C stops.")
        try:
            asyncio.run(runner.start())
        except (KeyboardInterrupt, TerminationSignal):
            console.print("Stopped.")


# ---------------------------------------------------------------- many machines
def ensure_work_pool(name: str) -> bool:
    """Create the process work pool if it is missing; True if created."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
    from prefect.workers.process import ProcessWorker

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(name)
            return False
        except ObjectNotFound:
            pass
        try:
            client.create_work_pool(
                WorkPoolCreate(
                    name=name,
                    type="process",
                    base_job_template=ProcessWorker.get_default_base_job_template(),
                )
            )
        except ObjectAlreadyExists:
            return False
    return True


def deploy_all(
    work_pool: str = WORK_POOL, console: Console | None = None, dry_run: bool = False
) -> list[str]:
    """Create or update a deployment per flow on the Prefect server; their full names."""
    console = console or Console(highlight=False)
    cfg = settings()
    specs = deployment_specs(cfg)
    for spec in specs:
        schedule_of(spec)  # a bad schedule stops everything before anything changes
    if dry_run:
        for spec in specs:
            console.print(
                f"would deploy {spec.flow}/{DEPLOYMENT_NAME} to pool '{work_pool}': "
                f"'{spec.cron}' ({spec.timezone}), one run at a time, tags {', '.join(spec.tags)}"
            )
        console.print(f"would create or update {describe_zombie_automation(zombie_automation())}")
        return [f"{s.flow}/{DEPLOYMENT_NAME}" for s in specs]
    require_server("deploy")
    if ensure_work_pool(work_pool):
        console.print(f"created process work pool '{work_pool}'")
    warn_missing_secrets(cfg, console)
    names = []
    for spec in specs:
        runner_deployment(spec, work_pool).apply()
        names.append(f"{spec.flow}/{DEPLOYMENT_NAME}")
        console.print(f"deployed {names[-1]}: '{spec.cron}' ({spec.timezone})")
    ensure_shared_budgets(cfg, console)
    ensure_zombie_automation(console)
    console.print(
        f"Start workers on each host: {HEARTBEAT_ENV}={HEARTBEAT_SECONDS} "
        f"prefect worker start --pool {work_pool} (README, Operations)"
    )
    return names


__all__ = [
    "DEPLOYMENT_NAME",
    "HEARTBEAT_SECONDS",
    "WORK_POOL",
    "ZOMBIE_AUTOMATION",
    "DeploymentSpec",
    "deploy_all",
    "deployment_specs",
    "ensure_work_pool",
    "ensure_zombie_automation",
    "missing_secrets",
    "runner_deployment",
    "runner_heartbeat_seconds",
    "serve_all",
    "single_instance",
    "zombie_automation",
]

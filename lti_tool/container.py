"""The application's long-lived services, built once by ``create_app``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lti_tool.crypto import SecretBox
from lti_tool.jobs.maintenance import MaintenanceSchedule
from lti_tool.jobs.queue import JobQueue, RqQueue, ThreadQueue
from lti_tool.jobs.runner import ThreadJobRunner
from lti_tool.lms.moodle.own_site import SiteChecks
from lti_tool.lti.platform_keys import PlatformKeys
from lti_tool.lti.registry_cache import RegistryCache
from lti_tool.lti.store import EphemeralStore, make_store
from lti_tool.lti.store_purge import purge_store
from lti_tool.outages import OutageClock
from lti_tool.outbound.http import OutboundSession
from lti_tool.outbound.policy import OutboundPolicy
from lti_tool.persistence.db import Database
from lti_tool.persistence.deadlines import DatabaseDeadlines
from lti_tool.redis_connection import settings_redis_client
from lti_tool.rules.catalog import Catalog
from lti_tool.settings import Settings

# The modules that own the background tasks (``@task``): a worker imports them before it runs
# a job by name (``jobs/tasks.py``).
TASK_MODULES = (
    "lti_tool.grading.sync",
    "lti_tool.grading.sync_sweep",
    "lti_tool.completion.class_refresh",
    "lti_tool.lti.store_purge",
)


@dataclass
class Services:
    settings: Settings
    db: Database
    store: EphemeralStore
    # Calls made for unauthenticated requests (the launch's key fetch): the outbound policy,
    # a total deadline, no retries.
    http: OutboundSession
    platform_keys: PlatformKeys
    catalog: Catalog
    registry_cache: RegistryCache
    secrets: SecretBox
    # Calls for staff and background jobs (LTI services, LMS APIs): same policy and deadline;
    # their clients retry on their own terms (outbound/retry.py caps Retry-After).
    lms_http: OutboundSession
    jobs: ThreadJobRunner
    # Calls anyone can make the tool do (Dynamic Registration's fetch and POST, the key fetch
    # of a registration it made that nobody has let in yet): public addresses only, whatever
    # outbound_allowed_hosts allows, so a stranger cannot map the private network the
    # operator opened for an on-premises LMS.
    registration_http: OutboundSession
    queue: JobQueue = field(init=False)
    maintenance: MaintenanceSchedule = field(init=False)
    # When each dependency that is down now went down (the health page shows it).
    outages: OutageClock = field(init=False)
    # More work for the maintenance tick, each called with these services.
    upkeep: list[Callable[[Services], object]] = field(default_factory=list)
    # Which Moodle web services were found to be their platform's own site, and until when
    # (per process: a student's refresh does not ask Moodle again each time).
    moodle_sites: SiteChecks = field(default_factory=SiteChecks)

    def __post_init__(self) -> None:
        self.outages = OutageClock(self.settings.redis_url, self.settings.redis_prefix)
        if self.settings.redis_url:
            self.queue = RqQueue(settings_redis_client(self.settings), self.settings.redis_prefix)
        else:
            owners = Path(self.settings.instance_dir) / "job-queues"
            self.queue = ThreadQueue(self.jobs, self, owners)
        self.maintenance = MaintenanceSchedule(self.settings.store_purge_seconds, self._upkeep)

    def _upkeep(self) -> None:
        """The maintenance tick: the features' upkeep (``web/__init__.py`` adds the sweep of grade
        syncs the queue lost), then the store purge."""
        try:
            for chore in self.upkeep:
                chore(self)
        finally:
            self.queue.enqueue(purge_store)

    def start_maintenance(self) -> None:
        """Purge expired store rows on a schedule (the web app calls it; CLI commands that
        build services for one act do not)."""
        self.maintenance.start()

    def close(self) -> None:
        self.maintenance.stop()
        self.jobs.shutdown()
        if isinstance(self.queue, ThreadQueue):
            self.queue.release()
        self.http.close()
        self.lms_http.close()
        self.registration_http.close()
        self.db.dispose()


def outbound_policy(settings: Settings, allowed_hosts: str | None = None) -> OutboundPolicy:
    """The outbound-URL policy the settings describe (``allowed_hosts`` replaces the
    setting's when given)."""
    return OutboundPolicy.from_settings(
        development=settings.is_development,
        allow_loopback=settings.outbound_allow_loopback,
        allowed_hosts=settings.outbound_allowed_hosts if allowed_hosts is None else allowed_hosts,
    )


def outbound_session(
    settings: Settings, *, allowed_hosts: str | None = None, **options: int
) -> OutboundSession:
    """A session for outbound calls: the settings' policy and total deadline."""
    return OutboundSession(
        outbound_policy(settings, allowed_hosts),
        timeout=settings.http_timeout_seconds,
        **options,
    )


def build_services(settings: Settings) -> Services:
    """Connect nothing yet: engines and clients connect lazily on first use. The
    qualification rules are read and validated here, so a bad rules file stops start-up."""
    db = Database(settings.sqlalchemy_url, deadlines=DatabaseDeadlines.from_settings(settings))
    store = make_store(db, settings)
    http = outbound_session(settings, max_body_bytes=1024 * 1024)
    public_http = outbound_session(settings, allowed_hosts="", max_body_bytes=1024 * 1024)
    platform_keys = PlatformKeys(
        store,
        http,
        public_http,
        cache_seconds=settings.platform_jwks_cache_seconds,
        refetch_min_seconds=settings.platform_jwks_refetch_min_seconds,
        refetch_wait_seconds=settings.http_timeout_seconds,
    )
    catalog = Catalog.load(settings.qualifications_path, settings.default_qualification)
    return Services(
        settings=settings,
        db=db,
        store=store,
        http=http,
        platform_keys=platform_keys,
        catalog=catalog,
        registry_cache=RegistryCache(db),
        secrets=SecretBox(settings.secret_key),
        lms_http=outbound_session(settings),
        jobs=ThreadJobRunner(),
        registration_http=public_http,
    )

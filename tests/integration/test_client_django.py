"""liveshift.client with Django: the `LIVESHIFT` database setting, requests through Django's test client.

Django's settings are configured once per process, so each test adds a database alias of its own
(its fresh database) with a `LIVESHIFT` entry, as an application's DATABASES would hold it.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from functools import cache
from typing import Any

import django
import psycopg
import pytest
from django.conf import settings
from django.db import Error as DjangoDatabaseError
from django.db import connections, models, transaction
from django.http import HttpRequest, JsonResponse
from django.test import Client
from django.urls import path

from liveshift import phases
from liveshift.client import ClientError, VersionUnavailable, for_django
from liveshift.client.keys import using_key
from liveshift.connections import open_session
from tests.harness.client_app import BLUE, GREEN, MIGRATION, RunningApp, cut_over, expanded, kept, roll_back
from tests.harness.db import through_verify
from tests.harness.pgbouncer import pgbouncer
from tests.harness.pooled_apps import (
    CENTS,
    RAN_UNDER,
    LeakObserver,
    RequestLoop,
    check_kept,
    ran_wrong,
    run_during,
    set_up_accounts,
    split_keys,
    user_of,
)
from tests.harness.pooled_apps import GREEN as PGB_GREEN

pytestmark = pytest.mark.integration

_alias: dict[str, str] = {}  # the alias the view writes to (one test at a time)


@cache
def shapes() -> dict[str, type[models.Model]]:
    """The application's model of users for each version: blue's `name`, green's `full_name`."""

    class BlueUser(models.Model):
        email = models.TextField()
        name = models.TextField(null=True)

        class Meta:
            app_label = "liveshift_client"
            db_table = "users"
            managed = False

    class GreenUser(models.Model):
        email = models.TextField()
        full_name = models.TextField(null=True)

        class Meta:
            app_label = "liveshift_client"
            db_table = "users"
            managed = False

    return {BLUE: BlueUser, GREEN: GreenUser}


def write_view(request: HttpRequest, tag: int) -> JsonResponse:
    alias = _alias["current"]
    version = for_django.version_of(alias)
    model = shapes()[version]
    column = "full_name" if version == GREEN else "name"
    model.objects.using(alias).create(email=f"a{tag}@x.org", **{column: version})
    assert getattr(model.objects.using(alias).get(email=f"a{tag}@x.org"), column) == version
    return JsonResponse({"version": version})


def pooled_view(request: HttpRequest, tag: str) -> JsonResponse:
    """The accounts application behind PgBouncer: its key from a header (using_key), its write in the shape of the
    version its request holds; every other request in an atomic block, the rest in autocommit (each statement
    routed on its own)."""
    alias = _alias["current"]
    atomic = transaction.atomic(alias) if request.headers["X-Atomic"] == "1" else nullcontext()
    with using_key(request.headers["X-Key"]), atomic:
        version = for_django.version_of(alias)
        column, value = ("amount_cents", 700) if version == PGB_GREEN else ("amount", 7)
        with connections[alias].cursor() as cursor:
            cursor.execute(f"INSERT INTO accounts (owner, {column}) VALUES (%s, %s)", [tag, value])
            cursor.execute(RAN_UNDER)
            ran_under = tuple(cursor.fetchone())
    return JsonResponse({"version": version, "wrong": ran_wrong(version, tag, ran_under)})


urlpatterns = [path("write/<int:tag>", write_view), path("pooled/<str:tag>", pooled_view)]


def _configure_django() -> None:
    if settings.configured:
        return
    settings.configure(
        DATABASES={},
        INSTALLED_APPS=["liveshift.client.for_django.LiveshiftClientConfig"],
        ROOT_URLCONF=__name__,
        ALLOWED_HOSTS=["testserver"],
        MIDDLEWARE=[],
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    )
    django.setup()


@pytest.fixture
def alias(dsn: str) -> Iterator[str]:
    """A database alias for this test's database, its LIVESHIFT entry set by the test (`_database`)."""
    _configure_django()
    name = f"t_{uuid.uuid4().hex[:8]}"
    _alias["current"] = name
    yield name
    connections[name].close()
    del connections.settings[name]


def _database(alias: str, dsn: str, liveshift: dict[str, Any]) -> None:
    """The alias's DATABASES entry: `dsn`'s server, a persistent connection, the LIVESHIFT entry."""
    params = psycopg.conninfo.conninfo_to_dict(dsn)
    entry = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": params["dbname"],
        "USER": params.get("user", ""),
        "PASSWORD": params.get("password", ""),
        "HOST": params.get("host", ""),
        "PORT": params.get("port", ""),
        "CONN_MAX_AGE": None,  # persistent: request_started must re-point it
        for_django.SETTING: liveshift,
    }
    configured = connections.configure_settings({"default": {"ENGINE": "django.db.backends.dummy"}, alias: entry})
    connections.settings[alias] = configured[alias]


def test_a_django_application_follows_cutover_and_rollback_and_loses_no_write(
    dsn: str, conn: psycopg.Connection, alias: str
) -> None:
    expanded(dsn, conn)
    _database(alias, dsn, {"schema": "public", "key": "web-1", "ttl": 0.05})
    client = Client()

    def request(tag: int) -> str:
        return client.post(f"/write/{tag}").json()["version"]

    with RunningApp(request, retryable=(DjangoDatabaseError, ClientError), finish=connections.close_all) as running:
        running.served(BLUE)
        cut_over(dsn)
        after_cutover = running.served(GREEN)
        roll_back(dsn)
        running.served(BLUE, after=after_cutover)
    assert [v for v, _ in itertools.groupby(v for _, v in running.acked)] == [BLUE, GREEN, BLUE]
    kept(conn, running.tags)


def test_a_contracted_pinned_version_fails_the_request_clearly(dsn: str, conn: psycopg.Connection, alias: str) -> None:
    expanded(dsn, conn)
    _database(alias, dsn, {"pin": BLUE, "ttl": 0})  # ttl 0: each request re-checks its connection
    client = Client()
    assert client.post("/write/1").json() == {"version": BLUE}
    cut_over(dsn)
    with open_session(dsn) as c:
        phases.contract(c, MIGRATION.name)
    # the persistent connection is re-checked at the next request (request_started)
    with pytest.raises(VersionUnavailable, match="'public_users_baseline' of schema 'public' does not exist"):
        client.post("/write/2")
    kept(conn, [1])


def test_django_routes_each_transaction_through_pgbouncer(dsn: str, conn: psycopg.Connection, alias: str) -> None:
    """Transaction pooling: the execute wrapper routes each transaction (atomic blocks, and autocommit statements
    each in a routed transaction of its own, the request holding its first version); blue and green keys share one
    server connection with an unrouted client through a cutover at 50%, shifts and a rollback: nothing ran under
    another version, nothing leaked, nothing was lost."""
    set_up_accounts(conn, dsn)
    blues, greens = split_keys(conn, 50, 2)
    through = through_verify(dsn, CENTS)
    assert through.ok, through.summary()
    with pgbouncer(dsn, [user_of(dsn)], pool_size=1) as pooled:
        _database(alias, pooled, {"schema": "public", "pooling": "transaction"})

        def request_for(key: str) -> Callable[[str], tuple[str, list[str]]]:
            client, made = Client(), itertools.count()

            def request(tag: str) -> tuple[str, list[str]]:
                headers = {"X-Key": key, "X-Atomic": str(next(made) % 2)}
                answer = client.post(f"/pooled/{tag}", headers=headers).json()
                return answer["version"], answer["wrong"]

            return request

        loops = [
            RequestLoop(k, request_for(k), finish=connections.close_all, retryable=(DjangoDatabaseError, ClientError))
            for k in blues + greens
        ]
        observer = LeakObserver("observer", dsn=pooled)
        steps = [
            lambda c: phases.cutover(c, CENTS.name, percent=50),
            lambda c: phases.shift(c, CENTS.name, 100),
            lambda c: phases.shift(c, CENTS.name, 0),
            lambda c: phases.rollback(c, CENTS.name),
        ]
        run_during(dsn, [*loops, observer], steps)
    assert observer.acked and observer.wrong == [] and observer.failed == []
    check_kept(conn, loops)

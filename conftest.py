"""Named people and spaces that tests across the apps share.

Each fixture builds one person in one role, so a test reads as a story:
``outsider`` is an employee with no membership, ``customer`` a customer
account, ``super_user`` the payments super-user, and so on.
"""

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings

from accounts.models import CrmFunction, LearnerGroup, Role, SuperUserAssignment, User
from communities.models import Community, Membership
from reconciliation.models import Company, Currency, Party

# Real Redis, Celery worker and SMTP servers on 127.0.0.1, started once per
# session for the background-work and e-mail tests.
pytest_plugins = ["commonplace.tests.fixtures"]

PASSWORD = "correct-horse-battery"
HYPOTHESIS_HOME = pytest.StashKey[Path]()


@pytest.fixture(scope="session", autouse=True)
def end_other_sessions_before_teardown(django_db_setup, django_db_blocker):
    """Close every other PostgreSQL session on the test database at the end.

    A Celery worker process or a thread from a concurrency test may still
    hold a session for a moment after it stops, and PostgreSQL refuses to
    drop a database that another session is using. This runs before the
    test database is dropped, because it depends on its setup.
    """
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def pytest_configure(config: pytest.Config) -> None:
    """Give Hypothesis a folder of this process's own for its caches.

    Its default is .hypothesis in the working folder, and property tests
    write a cache of constants there on every run. The folder is deleted
    at the end of the run, as the suite keeps no example database.
    """
    from hypothesis.configuration import set_hypothesis_home_dir

    folder = Path(tempfile.mkdtemp(prefix="commonplace-hypothesis-"))
    config.stash[HYPOTHESIS_HOME] = folder
    set_hypothesis_home_dir(folder)


def pytest_unconfigure(config: pytest.Config) -> None:
    hypothesis_home = config.stash.get(HYPOTHESIS_HOME, None)
    if hypothesis_home is not None:
        shutil.rmtree(hypothesis_home, ignore_errors=True)
    _delete_test_database_side_files()


def _delete_test_database_side_files() -> None:
    """Delete the -wal, -shm and -journal files left beside the test database.

    Django deletes the SQLite test database file at the end, but a
    connection that a thread, a live server or a worker process did not
    close leaves SQLite's side files behind. They are deleted only when the
    database file itself is gone, so ``--reuse-db`` keeps a whole database.
    """
    from django.conf import settings

    if not settings.configured:
        return
    database = settings.DATABASES["default"]
    name = database.get("TEST", {}).get("NAME")
    if not database["ENGINE"].endswith("sqlite3") or not name:
        return
    if Path(name).exists():
        return
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{name}{suffix}").unlink(missing_ok=True)
    # The folder stays: other test runs on the machine share it, and one
    # that had made it but not yet its database could not open the database
    # once a run that ended removed the empty folder.


@pytest.fixture(scope="session", autouse=True)
def process_var_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point VAR_DIR, MEDIA_ROOT and IMPORT_STAGING_DIR at this process's folder.

    Their defaults are under var/, which contains the development server's
    files. Under pytest-xdist both workers would write there, and because
    each worker numbers its rows from the same start, their uploads land
    under the same names (library/8/v1/...). The folder is under the
    worker's own pytest temporary folder. Tests that set one of these
    settings themselves still get their own value.
    """
    root = tmp_path_factory.mktemp("var")
    with override_settings(
        VAR_DIR=root,
        MEDIA_ROOT=root / "media",
        IMPORT_STAGING_DIR=root / "imports",
    ):
        yield root


def make_person(
    username: str,
    role: Role,
    *,
    customer: Party | None = None,
    group: str | None = None,
) -> User:
    person = User(
        username=username,
        first_name=username.capitalize(),
        last_name="Tester",
        email=f"{username}@example.com",
        role=role,
        customer=customer,
        learner_group=LearnerGroup.objects.get(slug=group) if group else None,
    )
    person.set_password(PASSWORD)
    person.save()
    return person


@pytest.fixture(autouse=True)
def empty_cache():
    """Start every test with an empty cache.

    The help-panel cache is keyed by a version row that each test's rollback
    resets, so a panel cached by one test could otherwise serve the next.
    """
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def settings_left_as_found():
    """Fail a test that leaves a settings override in place for the next test.

    Mixing ``@override_settings`` with the ``settings`` fixture in one test
    undoes the two in the wrong order, which once left ``DEBUG`` on for every
    later test.
    """
    from django.conf import settings

    # The lazy settings object keeps the settings it wraps in its own dict.
    wrapped = vars(settings)["_wrapped"]
    yield
    if vars(settings)["_wrapped"] is not wrapped:
        vars(settings)["_wrapped"] = wrapped
        pytest.fail(
            "This test left a settings override in place: change settings "
            "through the settings fixture or @override_settings, not both."
        )


@pytest.fixture
def company(db) -> Company:
    return Company.objects.create(
        name="Test Company", base_currency=Currency.objects.get(code="USD")
    )


@pytest.fixture
def customer_party(company) -> Party:
    return Party.objects.create(
        company=company, code="ALFKI", name="Alfreds Futterkiste", currency_id="USD"
    )


@pytest.fixture
def other_party(company) -> Party:
    return Party.objects.create(
        company=company, code="BONAP", name="Bon app'", currency_id="USD"
    )


@pytest.fixture
def payments(db) -> CrmFunction:
    return CrmFunction.objects.get(slug="payments")


@pytest.fixture
def sales_rep(db) -> User:
    return make_person("sally", Role.SALES_REP, group="sales")


@pytest.fixture
def outsider(db) -> User:
    return make_person("otto", Role.WAREHOUSE, group="warehouse")


@pytest.fixture
def facilitator(db) -> User:
    return make_person("fran", Role.FACILITATOR, group="customer_service")


@pytest.fixture
def super_user(db, payments) -> User:
    person = make_person("petra", Role.FINANCE_CLERK, group="operations")
    SuperUserAssignment.objects.create(person=person, crm_function=payments)
    return person


@pytest.fixture
def customer(customer_party) -> User:
    return make_person(
        "carla", Role.CUSTOMER, customer=customer_party, group="customers"
    )


@pytest.fixture
def payments_community(payments) -> Community:
    community = Community.objects.create(
        slug="payments", name="Payments", visibility=Community.Visibility.OPEN
    )
    community.crm_functions.add(payments)
    return community


@pytest.fixture
def customer_community(db) -> Community:
    return Community.objects.create(
        slug="customer-corner",
        name="Customer corner",
        visibility=Community.Visibility.CUSTOMER,
    )


@pytest.fixture
def private_community(db, facilitator) -> Community:
    community = Community.objects.create(
        slug="pricing-internal",
        name="Pricing internal",
        visibility=Community.Visibility.PRIVATE,
    )
    Membership.objects.create(
        community=community, person=facilitator, role=Membership.Role.OWNER
    )
    return community


@pytest.fixture
def make_order(company):
    """Build an order with one line; the line's product is created on the fly."""
    import datetime
    from decimal import Decimal

    from reconciliation.models import Product, SalesOrder, SalesOrderLine

    def build(number: str, party: Party, **fields) -> SalesOrder:
        product, _ = Product.objects.get_or_create(
            company=company, sku="CHAI", defaults={"name": "Chai", "list_price": 18}
        )
        order = SalesOrder.objects.create(
            company=company,
            number=number,
            customer=party,
            currency_id="USD",
            order_date=datetime.date(1998, 1, 5),
            promised_date=datetime.date(1998, 2, 2),
            amount_total=Decimal("180.00"),
            **fields,
        )
        SalesOrderLine.objects.create(
            order=order,
            line_no=1,
            product=product,
            description="Chai",
            qty_ordered=Decimal(10),
            unit_price=Decimal(18),
            subtotal=Decimal(180),
            promised_date=order.promised_date,
        )
        return order

    return build

"""The signed-in person and the session, read by statements compiled once."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.backends import AccountBackend
from accounts.models import User
from conftest import PASSWORD
from core.sessions import SessionStore

pytestmark = pytest.mark.django_db


def _signed_in(person: User) -> Client:
    client = Client()
    client.force_login(person)
    return client


def test_backend_person_equals_orm_read(sales_rep):
    sales_rep.last_login = timezone.now().replace(microsecond=123456)
    sales_rep.save(update_fields=["last_login"])

    read = AccountBackend().get_user(sales_rep.pk)

    expected = User.objects.get(pk=sales_rep.pk)
    assert read is not None
    for field in User._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(expected, field.attname), (
            field.attname
        )
    assert read.last_login.tzinfo is not None
    assert read._state.adding is False
    assert read._loaded_username == "sally"


@pytest.mark.parametrize("user_id", ["abc", None, "", "12x"])
def test_backend_non_numeric_id_reads_nobody(sales_rep, user_id):
    assert AccountBackend().get_user(user_id) is None


def test_backend_removed_person_reads_nobody(outsider):
    person_id = outsider.pk
    outsider.delete()
    assert AccountBackend().get_user(person_id) is None


def test_backend_inactive_person_signed_out(sales_rep):
    client = _signed_in(sales_rep)
    User.objects.filter(pk=sales_rep.pk).update(is_active=False)

    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_request_reads_session_and_person_once(sales_rep):
    client = _signed_in(sales_rep)
    client.get("/accounts/profile/")

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/search", {"q": "payment"})

    assert response.status_code == 200
    statements = [query["sql"] for query in queries.captured_queries]
    assert sum("django_session" in sql for sql in statements) == 1
    # Only the read of the signed-in person selects the password hash.
    assert sum('"accounts_user"."password"' in sql for sql in statements) == 1


def test_session_expired_signs_person_out(sales_rep):
    client = _signed_in(sales_rep)
    key = client.cookies["sessionid"].value
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_session_ending_soon_still_counts(sales_rep):
    client = _signed_in(sales_rep)
    key = client.cookies["sessionid"].value
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() + timedelta(seconds=30)
    )

    assert client.get("/").status_code == 200


def test_session_unknown_key_loads_empty(sales_rep):
    store = SessionStore("k" * 32)

    assert store.load() == {}
    assert store.session_key is None


def test_session_stored_data_loads(sales_rep):
    store = SessionStore()
    store["answer"] = 42
    store.create()

    again = SessionStore(store.session_key)

    assert again.load()["answer"] == 42


def test_sign_out_ends_session(sales_rep):
    client = _signed_in(sales_rep)
    key = client.cookies["sessionid"].value

    client.post("/accounts/logout/")

    assert not Session.objects.filter(session_key=key).exists()
    stale = Client()
    stale.cookies["sessionid"] = key
    assert stale.get("/")["Location"].startswith("/accounts/login/")


def test_password_change_signs_out_others(sales_rep):
    other = _signed_in(sales_rep)
    assert other.get("/").status_code == 200

    sales_rep.set_password("a new and long passphrase 81")
    sales_rep.save()

    assert other.get("/")["Location"].startswith("/accounts/login/")
    fresh = Client()
    assert fresh.login(username="sally", password=PASSWORD) is False
    assert fresh.login(username="sally", password="a new and long passphrase 81")


def test_get_user_uses_backend(sales_rep, rf):
    client = _signed_in(sales_rep)
    request = rf.get("/")
    request.session = SessionStore(client.cookies["sessionid"].value)

    person = get_user(request)

    assert person.pk == sales_rep.pk

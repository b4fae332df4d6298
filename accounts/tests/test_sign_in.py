"""Signing in and out with Django's auth views."""

import pytest
from django.test import Client

from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_sign_in_with_username_any_case(sales_rep):
    response = Client().post(
        "/accounts/login/", {"username": "SALLY", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_wrong_password_shows_message(sales_rep):
    response = Client().post(
        "/accounts/login/", {"username": "sally", "password": "nope"}
    )
    assert response.status_code == 200
    assert b"Please enter a correct username and password." in response.content


def test_home_shows_the_feed(sales_rep):
    client = Client()
    client.force_login(sales_rep)
    response = client.get("/")
    assert response.status_code == 200
    assert response.templates[0].name == "core/home.html"


def test_sign_out_needs_post(sales_rep):
    client = Client()
    client.force_login(sales_rep)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response["Location"] == "/accounts/login/"

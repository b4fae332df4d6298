"""Helpers the test suites share: a signed-in client and the messages shown."""

from typing import Any

from django.test import Client


def signed_in(person: Any) -> Client:
    """Return a test client signed in as ``person``."""
    client = Client()
    client.force_login(person)
    return client


def messages_of(response: Any) -> list[str]:
    """Return the texts of the messages the response's page shows."""
    return [str(message) for message in response.context["messages"]]

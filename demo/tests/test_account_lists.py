"""Every demo account that can sign in is in the printout, the README or the docs.

One test loads the demo once (about 30 seconds) and checks all three lists.
"""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from accounts.models import User

pytestmark = pytest.mark.django_db

README = Path(settings.BASE_DIR) / "README.md"
DEMO_DATA_DOC = Path(settings.BASE_DIR) / "docs" / "demo-data.md"


@pytest.fixture(autouse=True)
def _files_in_tmp(settings, tmp_path):
    settings.VAR_DIR = tmp_path


@override_settings(DEBUG=True)
def test_every_account_listed():
    output = StringIO()
    call_command("load_demo", stdout=output)
    printout = output.getvalue()
    people = User.objects.filter(is_active=True, is_scripted=False)
    staff = {person.username for person in people if not person.is_external}
    customers = {person.username for person in people if person.is_external}

    printed = set(re.findall(r"^  .{26} (\S+)", printout, flags=re.MULTILINE))
    assert (staff | customers) - printed == set()
    assert "  Customer                   frank      Peter Franken" in printout

    readme_names = set(re.findall(r"`([a-z]+)`", README.read_text(encoding="utf-8")))
    assert staff - readme_names == set()
    assert "frank" in readme_names

    doc = DEMO_DATA_DOC.read_text(encoding="utf-8")
    doc_rows = set(re.findall(r"^\| `([a-z]+)` \|", doc, flags=re.MULTILINE))
    assert len(customers) == 91
    assert doc_rows == customers

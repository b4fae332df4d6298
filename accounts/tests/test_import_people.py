"""Tests for importing people from CSV: the service and the command."""

import codecs
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import IntegrityError

from accounts.importing import (
    ImportFileError,
    ImportReport,
    RowAction,
    applying,
    import_people,
)
from accounts.models import CrmFunction, LearnerGroup, Role, User
from core.models import AuditEvent
from reconciliation.models import Company, Currency, Party

pytestmark = pytest.mark.django_db

HEADER = "email,first_name,last_name,role"


def write_file(tmp_path: Path, content: str | bytes, name: str = "people.csv") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path


def import_file(path: Path, **options: object) -> ImportReport:
    return import_people(source=path.read_bytes(), **options)  # type: ignore[arg-type]


def outcomes(report: ImportReport) -> list[tuple[int, str, str]]:
    return [(row.line, row.action, row.detail) for row in report.rows]


def run_command(path: Path, *args: str) -> tuple[int, str, str]:
    """Run import_people and return its exit status, stdout and stderr."""
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        call_command("import_people", str(path), *args, stdout=stdout, stderr=stderr)
    except SystemExit as exit_:
        status = int(exit_.code or 0)
    else:
        status = 0
    return status, stdout.getvalue(), stderr.getvalue()


@pytest.fixture
def pat_lee() -> User:
    return User.objects.create_user(
        username="plee",
        email="Pat.Lee@example.com",
        first_name="Pat",
        last_name="Lee",
        role=Role.SALES_REP,
    )


@pytest.fixture
def customer_party() -> Party:
    euro, _ = Currency.objects.get_or_create(code="EUR", defaults={"name": "Euro"})
    company = Company.objects.create(name="Company X", base_currency=euro)
    return Party.objects.create(
        company=company, code="C-100", name="Acme GmbH", currency=euro
    )


def test_excel_utf8_bom_maps_first_column(tmp_path):
    content = (
        "username,email,first_name,last_name,role\r\n"
        "pat,pat@example.com,Pat,Lee,sales_rep\r\n"
    )
    path = write_file(tmp_path, codecs.BOM_UTF8 + content.encode())

    report = import_file(path)

    assert outcomes(report) == [(2, "created", "username pat")]
    assert report.encoding == "utf-8-sig"
    assert report.warnings == ()
    assert User.objects.get(email="pat@example.com").username == "pat"


def test_text_source_with_bom_maps_first_column():
    source = io.StringIO(
        "\ufeffusername,email,last_name,role\nkim,kim@example.com,Kim,it\n"
    )

    report = import_people(source=source)

    assert outcomes(report) == [(2, "created", "username kim")]
    assert User.objects.get(email="kim@example.com").username == "kim"


def test_german_excel_semicolons_and_dates(tmp_path):
    content = (
        "email;first_name;last_name;role;hire_date\r\n"
        "anna@example.com;Anna;Schmidt;warehouse;31.01.2025\r\n"
        "ben@example.com;Ben;Vogel;warehouse;31.13.2025\r\n"
    )
    path = write_file(tmp_path, content.encode("cp1252"))

    report = import_file(path)

    assert report.delimiter == ";"
    assert outcomes(report) == [
        (2, "created", "username anna"),
        (
            3,
            "rejected",
            'Invalid hire_date "31.13.2025": use YYYY-MM-DD, DD.MM.YYYY or '
            "DD/MM/YYYY, or pass --date-format.",
        ),
    ]
    assert report.warnings == (
        'Column "hire_date" is checked but not stored: accounts have no hire '
        "date field.",
    )
    assert User.objects.get(username="anna").last_name == "Schmidt"


def test_explicit_date_format_rejects_other_styles(tmp_path):
    content = (
        f"{HEADER},hire_date\n"
        "amy@example.com,Amy,Ng,it,01/31/2025\n"
        "bo@example.com,Bo,Ng,it,31.01.2025\n"
    )
    path = write_file(tmp_path, content)

    report = import_file(path, date_format="%m/%d/%Y")

    assert outcomes(report) == [
        (2, "created", "username amy"),
        (
            3,
            "rejected",
            'Invalid hire_date "31.01.2025": expected the format %m/%d/%Y.',
        ),
    ]


def test_invalid_date_format_fails_file(tmp_path):
    path = write_file(tmp_path, f"{HEADER}\namy@example.com,Amy,Ng,it\n")

    with pytest.raises(ImportFileError) as error:
        import_file(path, date_format="%d.%m")

    assert str(error.value) == (
        'Invalid date format "%d.%m": it must contain the day, month and year, '
        "for example %d.%m.%Y."
    )


def test_latin1_file_rejected_without_encoding(tmp_path):
    content = f"{HEADER}\nmax@example.com,Max,Müller,warehouse\n"
    path = write_file(tmp_path, content.encode("latin-1"))

    with pytest.raises(ImportFileError) as error:
        import_file(path)

    assert str(error.value) == (
        "The file is not valid UTF-8: byte 0xFC at offset 53 (line 2) cannot "
        'be decoded. Save it from Excel as "CSV UTF-8", or pass its encoding, '
        "for example --encoding latin-1."
    )
    assert not User.objects.exists()


def test_latin1_file_imported_with_encoding(tmp_path):
    content = f"{HEADER}\nmax@example.com,Max,Müller,warehouse\n"
    path = write_file(tmp_path, content.encode("latin-1"))

    report = import_file(path, encoding="latin-1")

    assert report.encoding == "iso8859-1"
    assert outcomes(report) == [(2, "created", "username max")]
    assert User.objects.get(username="max").last_name == "Müller"


def test_bom_offset_counts_from_file_start(tmp_path):
    content = f"{HEADER}\nmax@example.com,Max,Müller,warehouse\n"
    path = write_file(tmp_path, codecs.BOM_UTF8 + content.encode("latin-1"))

    with pytest.raises(ImportFileError, match="byte 0xFC at offset 56 "):
        import_file(path)


def test_utf16_file_names_its_encoding(tmp_path):
    path = write_file(tmp_path, f"{HEADER}\n".encode("utf-16"))

    with pytest.raises(ImportFileError) as error:
        import_file(path)

    assert str(error.value) == (
        "The file is not valid UTF-8: byte 0xFF at offset 0 (line 1) cannot "
        'be decoded. The file is UTF-16: save it as "CSV UTF-8" or pass '
        "--encoding utf-16."
    )


@pytest.mark.parametrize("encoding", ["klingon", "base64"])
def test_unknown_encoding_fails_file(tmp_path, encoding):
    path = write_file(tmp_path, f"{HEADER}\nmax@example.com,Max,Muller,warehouse\n")

    with pytest.raises(ImportFileError) as error:
        import_file(path, encoding=encoding)

    assert str(error.value) == (
        f'Unknown encoding "{encoding}": use a Python codec name such as utf-8, '
        "cp1252 or latin-1."
    )


def test_headers_trimmed_and_case_folded(tmp_path):
    content = (
        " Email ,FIRST NAME, Last-Name ,Role  ,Learner Group,CRM functions\n"
        "lu@example.com,Lu,Chen,Sales representative,Customer service,"
        "order_entry|Payments\n"
    )
    path = write_file(tmp_path, content)

    report = import_file(path)

    assert outcomes(report) == [(2, "created", "username lu")]
    person = User.objects.get(username="lu")
    assert person.first_name == "Lu"
    assert person.last_name == "Chen"
    assert person.role == Role.SALES_REP
    assert person.learner_group == LearnerGroup.objects.get(slug="customer_service")
    assert set(person.crm_functions.values_list("slug", flat=True)) == {
        "order_entry",
        "payments",
    }


def test_german_email_header_maps_to_email(tmp_path):
    path = write_file(tmp_path, "E-Mail;Last Name;Role\nmo@example.com;Mo;hr\n")

    report = import_file(path)

    assert outcomes(report) == [(2, "created", "username mo")]


def test_unknown_column_is_warning(tmp_path):
    path = write_file(tmp_path, f"{HEADER},Notes\nmo@example.com,Mo,Li,hr,hello\n")

    report = import_file(path)

    assert report.warnings == ('Unknown column "Notes" is ignored.',)
    assert report.exit_code == 0


def test_missing_email_column_fails_and_writes_nothing(tmp_path):
    path = write_file(tmp_path, "mail,first_name,role\nmo@example.com,Mo,hr\n")

    with pytest.raises(ImportFileError) as error:
        import_file(path)

    assert str(error.value) == (
        'Missing required column "email". The header on line 1 has "mail", '
        '"first_name", "role" (split at ","). Rename the e-mail column to email, '
        "or pass --delimiter if the columns were split wrongly."
    )
    assert not User.objects.exists()
    assert not AuditEvent.objects.exists()


def test_too_many_blank_lines_fail_file(tmp_path, settings):
    settings.IMPORT_MAX_BLANK_LINES = 3
    content = f"{HEADER}\nmo@example.com,Mo,Lee,warehouse\n\n,,,\n\n\n"
    path = write_file(tmp_path, content)

    with pytest.raises(ImportFileError) as error:
        import_file(path)

    assert str(error.value) == (
        "The file has more than 3 blank lines (IMPORT_MAX_BLANK_LINES): line 6 "
        "is blank line 4. Delete the blank lines, or split the file."
    )
    assert not User.objects.exists()
    assert not AuditEvent.objects.exists()


def test_too_many_lines_fail_file(tmp_path, settings):
    settings.IMPORT_MAX_LINES = 2
    # A quoted title spans lines 2 and 3, and both count.
    content = f'{HEADER},title\nmo@example.com,Mo,Lee,warehouse,"Shift\nlead"\n'
    path = write_file(tmp_path, content)

    with pytest.raises(ImportFileError) as error:
        import_file(path)

    assert str(error.value) == (
        "The file has more than 2 lines (IMPORT_MAX_LINES), counting blank lines "
        "and the lines inside quoted values: reading stopped at line 3. Delete "
        "the blank lines, or split the file."
    )
    assert not User.objects.exists()


def test_too_many_rows_fail_file(tmp_path, settings):
    settings.IMPORT_MAX_ROWS = 2
    rows = "".join(f"p{n}@example.com,P{n},Lee,warehouse\n" for n in range(3))
    path = write_file(tmp_path, f"{HEADER}\n{rows}")

    with pytest.raises(ImportFileError) as error:
        import_file(path)

    assert str(error.value) == (
        "The file has more than 2 people rows (IMPORT_MAX_ROWS): reading stopped "
        "at line 4. Split the file into smaller files."
    )
    assert not User.objects.exists()
    assert not AuditEvent.objects.exists()


def test_rows_at_the_limits_are_imported(tmp_path, settings):
    settings.IMPORT_MAX_ROWS = 2
    settings.IMPORT_MAX_BLANK_LINES = 1
    settings.IMPORT_MAX_LINES = 4
    rows = "".join(f"p{n}@example.com,P{n},Lee,warehouse\n" for n in range(2))
    path = write_file(tmp_path, f"{HEADER}\n\n{rows}")

    report = import_file(path)

    assert [action for _line, action, _detail in outcomes(report)] == [
        "created",
        "created",
    ]


def test_missing_name_column_fails_file(tmp_path):
    path = write_file(tmp_path, "email;role\nmo@example.com;hr\n")

    with pytest.raises(ImportFileError) as error:
        import_file(path)

    assert str(error.value) == (
        'Missing required column "first_name" or "last_name". The header on '
        'line 1 has "email", "role" (split at ";").'
    )


def test_header_without_rows_fails_file(tmp_path):
    path = write_file(tmp_path, f"{HEADER}\n\n")

    with pytest.raises(ImportFileError) as error:
        import_file(path)

    assert str(error.value) == "The file has a header on line 1 but no rows."


def test_empty_file_fails(tmp_path):
    path = write_file(tmp_path, b"")

    with pytest.raises(ImportFileError) as error:
        import_file(path)

    assert str(error.value) == "The file is empty: it has no header line."


def test_ambiguous_delimiter_fails_file(tmp_path):
    path = write_file(tmp_path, "email,first_name;role\nmo@example.com,Mo;hr\n")

    with pytest.raises(ImportFileError) as error:
        import_file(path)

    assert str(error.value) == (
        'Cannot detect the delimiter: the header line contains "," and ";" '
        "equally often. Pass --delimiter."
    )


def test_explicit_tab_delimiter(tmp_path):
    path = write_file(tmp_path, "email\tlast_name\trole\nmo@example.com\tLi\thr\n")

    report = import_file(path, delimiter="tab")

    assert report.delimiter == "\t"
    assert outcomes(report) == [(2, "created", "username mo")]


def test_unclosed_quote_fails_file(tmp_path):
    path = write_file(tmp_path, f'{HEADER}\nmo@example.com,"Mo,Li,hr\n')

    with pytest.raises(ImportFileError) as error:
        import_file(path)

    assert str(error.value) == (
        "The file is not valid CSV at line 2: unexpected end of data. Check the "
        "quotes on that line."
    )
    assert not User.objects.exists()


def test_existing_email_matches_ignoring_case_spaces(tmp_path, pat_lee):
    content = (
        f"{HEADER},title\n"
        "pat.lee@example.com,Pat,Lee,,Sales lead\n"
        " PAT.LEE@example.com ,Pat,Lee,,Head of sales\n"
    )
    path = write_file(tmp_path, content)

    report = import_file(path)

    assert outcomes(report) == [
        (2, "updated", "changed title"),
        (3, "updated", "changed title"),
    ]
    assert report.warnings == (
        "Line 3 updates the same person as line 2 (PAT.LEE@example.com), so its "
        "values replace those of line 2.",
    )
    assert User.objects.count() == 1
    pat_lee.refresh_from_db()
    assert pat_lee.title == "Head of sales"
    assert pat_lee.email == "Pat.Lee@example.com"
    assert pat_lee.username == "plee"


def test_repeated_new_email_is_duplicate(tmp_path):
    content = f"{HEADER}\njo@example.com,Jo,Kim,it\nJo@Example.com,Jo,Kim,it\n"
    path = write_file(tmp_path, content)

    report = import_file(path)

    assert outcomes(report) == [
        (2, "created", "username jo"),
        (
            3,
            "rejected",
            'Duplicate e-mail "Jo@Example.com": line 2 has the same address. '
            "Keep one row per person, or correct the address.",
        ),
    ]
    assert User.objects.filter(email__iexact="jo@example.com").count() == 1
    assert report.exit_code == 1


def test_dry_run_same_outcomes_no_writes(tmp_path, pat_lee):
    content = (
        f"{HEADER},title\n"
        "pat.lee@example.com,Pat,Lee,,Sales lead\n"
        " PAT.LEE@example.com ,Pat,Lee,,Head of sales\n"
        "jo@example.com,Jo,Kim,it,\n"
        "Jo@Example.com,Jo,Kim,it,\n"
    )
    path = write_file(tmp_path, content)

    dry = import_file(path, dry_run=True)

    assert dry.dry_run is True
    assert [row.person_id for row in dry.rows] == [pat_lee.pk, pat_lee.pk, None, None]
    assert User.objects.count() == 1
    assert User.objects.get().title == ""
    assert not AuditEvent.objects.exists()

    real = import_file(path)

    assert outcomes(dry) == outcomes(real)
    assert dry.warnings == real.warnings
    assert [row.action for row in real.rows] == [
        RowAction.UPDATED,
        RowAction.UPDATED,
        RowAction.CREATED,
        RowAction.REJECTED,
    ]
    assert User.objects.count() == 2


def test_unknown_role_and_customer_code(tmp_path, customer_party):
    content = (
        f"{HEADER},customer_code\n"
        "ok@example.com,Ok,Fine,it,\n"
        "wiz@example.com,Wiz,Ard,Wizard,\n"
        "buyer@example.com,Bea,Buyer,customer,C-999\n"
        "client@example.com,Cy,Client,Customer,C-100\n"
    )
    path = write_file(tmp_path, content)

    report = import_file(path)

    assert outcomes(report) == [
        (2, "created", "username ok"),
        (
            3,
            "rejected",
            'Unknown role "Wizard": use one of sales_rep, finance_clerk, warehouse, '
            "customer, manager, facilitator, hr, it, executive, moderator, or its "
            "label.",
        ),
        (
            4,
            "rejected",
            'Unknown customer_code "C-999": no customer of Company X has that code '
            "(codes match exactly, including case). Check the code in the CRM.",
        ),
        (5, "created", "username client"),
    ]
    assert report.exit_code == 1
    assert User.objects.get(username="client").customer == customer_party
    assert not User.objects.filter(email__in=["wiz@example.com", "buyer@example.com"])


def test_customer_rules(tmp_path, customer_party):
    content = (
        f"{HEADER},customer_code\n"
        "nocode@example.com,No,Code,customer,\n"
        "rep@example.com,Rep,Code,sales_rep,C-100\n"
    )
    path = write_file(tmp_path, content)

    report = import_file(path)

    assert outcomes(report) == [
        (
            2,
            "rejected",
            "The customer_code is empty: a customer account needs the code of its "
            "customer company.",
        ),
        (
            3,
            "rejected",
            'The customer_code "C-100" is only for customer accounts, but the role '
            "is sales_rep: remove the code or set the role to customer.",
        ),
    ]


def test_customer_code_without_company_rejected(tmp_path):
    path = write_file(
        tmp_path, f"{HEADER},customer_code\nc@example.com,Cy,Client,customer,C-1\n"
    )

    report = import_file(path)

    assert outcomes(report) == [
        (
            2,
            "rejected",
            'The customer_code "C-1" cannot be looked up because no company is set '
            "up yet: codes are resolved in the one company.",
        )
    ]


def test_role_change_from_customer_clears_customer(tmp_path, customer_party):
    person = User.objects.create_user(
        username="cy",
        email="cy@example.com",
        role=Role.CUSTOMER,
        customer=customer_party,
    )
    path = write_file(tmp_path, f"{HEADER}\ncy@example.com,,,sales_rep\n")

    report = import_file(path)

    assert outcomes(report) == [(2, "updated", "changed role, customer")]
    person.refresh_from_db()
    assert person.role == Role.SALES_REP
    assert person.customer is None


def test_later_row_sees_earlier_role_change(tmp_path, customer_party):
    User.objects.create_user(
        username="cy",
        email="cy@example.com",
        role=Role.CUSTOMER,
        customer=customer_party,
    )
    content = (
        f"{HEADER},customer_code\n"
        "cy@example.com,,,sales_rep,\n"
        "cy@example.com,,,,C-100\n"
    )
    path = write_file(tmp_path, content)

    report = import_file(path)

    assert outcomes(report) == [
        (2, "updated", "changed role, customer"),
        (
            3,
            "rejected",
            'The customer_code "C-100" is only for customer accounts, but the role '
            "is sales_rep: remove the code or set the role to customer.",
        ),
    ]


def test_row_errors_are_all_listed(tmp_path):
    content = (
        f"{HEADER},learner_group,crm_functions,manager_email\n"
        "x@example.com,,,,Salez,ordering;payments,boss@\n"
    )
    path = write_file(tmp_path, content)

    report = import_file(path)

    assert outcomes(report) == [
        (
            2,
            "rejected",
            "The first_name and last_name are both empty: a new person needs at "
            "least one of them. The role is empty: a new person needs one of "
            "sales_rep, finance_clerk, warehouse, customer, manager, facilitator, "
            'hr, it, executive, moderator. Unknown learner_group "Salez": use the '
            "slug or name of one of customer_service, customers, operations, "
            'sales, warehouse. Unknown crm_functions "ordering": use slugs or '
            'names separated by ";" or "|", from disputes, fulfilment, invoicing, '
            'order_entry, payments. Invalid manager_email "boss@": enter a full '
            "address such as name@example.com.",
        )
    ]


def test_invalid_and_empty_email_rejected(tmp_path):
    content = f"{HEADER}\nnot-an-address,Al,Bo,it\n,Al,Bo,it\n"
    path = write_file(tmp_path, content)

    report = import_file(path)

    assert outcomes(report) == [
        (
            2,
            "rejected",
            'Invalid e-mail "not-an-address": enter a full address such as '
            "name@example.com.",
        ),
        (
            3,
            "rejected",
            "The e-mail is empty: every row needs the person's e-mail address.",
        ),
    ]


def test_extra_values_rejected(tmp_path):
    path = write_file(tmp_path, f"{HEADER}\nal@example.com,Al,Bo,it,oops\n")

    report = import_file(path)

    assert outcomes(report) == [
        (
            2,
            "rejected",
            'The row has values beyond the last column of the header ("oops"): '
            "quote values that contain the delimiter.",
        )
    ]


def test_line_numbers_count_physical_lines(tmp_path):
    content = (
        f"{HEADER},title\n"
        '"al@example.com",Al,Bo,it,"Team lead,\nnorth"\n'
        "\n"
        "bad@example.com,Bad,Role,nope,\n"
    )
    path = write_file(tmp_path, content)

    report = import_file(path)

    assert [(row.line, row.action) for row in report.rows] == [
        (2, RowAction.CREATED),
        (5, RowAction.REJECTED),
    ]
    assert User.objects.get(username="al").title == "Team lead,\nnorth"


def test_derived_username_avoids_taken_names(tmp_path, pat_lee):
    content = (
        "email,username,first_name,role\n"
        "plee@example.com,,Pat,it\n"
        "jo@other.example,,Jo,it\n"
        "joe@example.com,jo2,Joe,it\n"
        "jo@example.com,,Jo,it\n"
    )
    path = write_file(tmp_path, content)

    report = import_file(path)

    assert outcomes(report) == [
        (2, "created", "username plee2"),
        (3, "created", "username jo"),
        (4, "created", "username jo2"),
        (5, "created", "username jo3"),
    ]


def test_given_username_clash_rejected(tmp_path, pat_lee):
    content = (
        "email,username,first_name,role\n"
        "al@example.com,PLEE,Al,it\n"
        "bo@example.com,bo,Bo,it\n"
        "bob@example.com,Bo,Bob,it\n"
    )
    path = write_file(tmp_path, content)

    report = import_file(path)

    assert outcomes(report) == [
        (
            2,
            "rejected",
            'The username "PLEE" already belongs to Pat.Lee@example.com: choose '
            "another username, or leave it empty to derive one from the e-mail.",
        ),
        (3, "created", "username bo"),
        (
            4,
            "rejected",
            'The username "Bo" is already given to the person on line 3: choose '
            "another username, or leave it empty to derive one.",
        ),
    ]


def test_manager_on_later_row_created_first(tmp_path, pat_lee):
    content = (
        f"{HEADER},manager_email\n"
        "rep@example.com,Rep,One,sales_rep,Boss@Example.com\n"
        "boss@example.com,Big,Boss,manager,pat.lee@example.com\n"
    )
    path = write_file(tmp_path, content)

    report = import_file(path)

    assert [row.action for row in report.rows] == [RowAction.CREATED] * 2
    boss = User.objects.get(username="boss")
    assert boss.manager == pat_lee
    assert User.objects.get(username="rep").manager == boss


def test_manager_problems_rejected(tmp_path):
    content = (
        f"{HEADER},manager_email\n"
        "a@example.com,A,A,it,b@example.com\n"
        "b@example.com,B,B,it,a@example.com\n"
        "c@example.com,C,C,it,nobody@example.com\n"
        "d@example.com,D,D,it,d@example.com\n"
    )
    path = write_file(tmp_path, content)

    report = import_file(path)

    assert outcomes(report) == [
        (
            2,
            "rejected",
            "The manager_email values form a loop (a@example.com → b@example.com "
            "→ a@example.com): fix the manager of one of these people.",
        ),
        (
            3,
            "rejected",
            "The manager_email values form a loop (b@example.com → a@example.com "
            "→ b@example.com): fix the manager of one of these people.",
        ),
        (
            4,
            "rejected",
            'Unknown manager_email "nobody@example.com": no account has that '
            "e-mail and no row of this file adds one. Import the manager first or "
            "correct the address.",
        ),
        (
            5,
            "rejected",
            'The manager_email "d@example.com" is the person\'s own e-mail: give '
            "the manager's address or leave it empty.",
        ),
    ]
    assert not User.objects.exists()


def test_manager_on_rejected_row_rejects_report(tmp_path):
    content = (
        f"{HEADER},manager_email\n"
        "boss@example.com,Big,Boss,emperor,\n"
        "rep@example.com,Rep,One,sales_rep,boss@example.com\n"
    )
    path = write_file(tmp_path, content)

    report = import_file(path)

    assert outcomes(report)[1] == (
        3,
        "rejected",
        'The manager_email "boss@example.com" belongs to the row on line 2, which '
        "is rejected: fix that row and import again.",
    )


def test_created_person_password_and_audit(tmp_path):
    path = write_file(
        tmp_path, f"{HEADER},crm_functions\njo@Example.COM,Jo,Kim,it,payments\n"
    )

    import_file(path)

    person = User.objects.get()
    assert person.email == "jo@example.com"
    assert not person.has_usable_password()
    event = AuditEvent.objects.get()
    assert event.action == "person.created"
    assert event.source == AuditEvent.Source.IMPORT
    assert event.actor is None
    assert event.object_id == str(person.pk)
    assert event.before == {}
    assert event.after == {
        "email": "jo@example.com",
        "first_name": "Jo",
        "last_name": "Kim",
        "role": "it",
        "username": "jo",
        "crm_functions": ["payments"],
    }


def test_update_records_before_and_after(tmp_path, pat_lee):
    pat_lee.crm_functions.set([CrmFunction.objects.get(slug="payments")])
    path = write_file(
        tmp_path,
        "email,last_name,learner_group,crm_functions\n"
        "pat.lee@example.com,Lee-Smith,sales,Order entry;payments\n",
    )

    import_file(path)

    event = AuditEvent.objects.get()
    assert event.action == "person.updated"
    assert event.before == {
        "last_name": "Lee",
        "learner_group": None,
        "crm_functions": ["payments"],
    }
    assert event.after == {
        "last_name": "Lee-Smith",
        "learner_group": "sales",
        "crm_functions": ["order_entry", "payments"],
    }


def test_reimport_reports_unchanged_without_audit(tmp_path):
    path = write_file(tmp_path, f"{HEADER}\njo@example.com,Jo,Kim,it\n")
    import_file(path)

    report = import_file(path)

    assert outcomes(report) == [(2, "unchanged", "no changes")]
    assert AuditEvent.objects.count() == 1


def test_command_all_rows_imported_exits_zero(tmp_path):
    path = write_file(tmp_path, f"{HEADER}\njo@example.com,Jo,Kim,it\n")

    status, stdout, stderr = run_command(path)

    assert status == 0
    assert stdout == (
        f'{path}: 1 rows, encoding utf-8-sig, delimiter ",".\n'
        "line 2: created jo@example.com (username jo)\n"
        "Created 1, updated 0, unchanged 0, rejected 0, warnings 0.\n"
    )
    assert stderr == ""


def test_command_rejected_rows_exit_one(tmp_path, pat_lee):
    content = (
        f"{HEADER},title,notes\n"
        "pat.lee@example.com,Pat,Lee,,Sales lead,\n"
        "jo@example.com,Jo,Kim,it,,\n"
        "Jo@Example.com,Jo,Kim,it,,\n"
    )
    path = write_file(tmp_path, content)

    status, stdout, _ = run_command(path)

    assert status == 1
    assert stdout == (
        f'{path}: 3 rows, encoding utf-8-sig, delimiter ",".\n'
        "line 2: updated pat.lee@example.com (changed title)\n"
        "line 3: created jo@example.com (username jo)\n"
        'line 4: rejected Jo@Example.com: Duplicate e-mail "Jo@Example.com": '
        "line 3 has the same address. Keep one row per person, or correct the "
        "address.\n"
        'warning: Unknown column "notes" is ignored.\n'
        "Created 1, updated 1, unchanged 0, rejected 1, warnings 1.\n"
    )
    assert User.objects.filter(username="jo").exists()


def test_command_dry_run_saves_nothing(tmp_path):
    path = write_file(tmp_path, f"{HEADER}\njo@example.com,Jo,Kim,it\n")

    status, stdout, _ = run_command(path, "--dry-run")

    assert status == 0
    assert stdout.endswith(
        "line 2: created jo@example.com (username jo)\n"
        "Created 1, updated 0, unchanged 0, rejected 0, warnings 0.\n"
        "Dry run: nothing was saved.\n"
    )
    assert not User.objects.exists()


def test_command_file_error_exits_two(tmp_path):
    path = write_file(tmp_path, "mail,first_name\nmo@example.com,Mo\n")

    status, stdout, stderr = run_command(path)

    assert status == 2
    assert stdout == ""
    assert stderr == (
        f'{path}: Missing required column "email". The header on line 1 has '
        '"mail", "first_name" (split at ","). Rename the e-mail column to email, '
        "or pass --delimiter if the columns were split wrongly. Nothing was "
        "imported.\n"
    )
    assert not User.objects.exists()


def test_command_latin1_with_encoding_option(tmp_path):
    content = f"{HEADER}\nmax@example.com,Max,Müller,warehouse\n"
    path = write_file(tmp_path, content.encode("latin-1"))

    rejected_status, _, stderr = run_command(path)
    status, stdout, _ = run_command(path, "--encoding", "latin-1")

    assert rejected_status == 2
    assert "byte 0xFC at offset 53 (line 2)" in stderr
    assert status == 0
    assert "line 2: created max@example.com (username max)\n" in stdout
    assert User.objects.get(username="max").last_name == "Müller"


def test_command_missing_file_exits_two(tmp_path):
    status, _, stderr = run_command(tmp_path / "absent.csv")

    assert status == 2
    assert (
        stderr == f"Cannot read {tmp_path / 'absent.csv'}: No such file or directory.\n"
    )


def fail_audit_for(monkeypatch, email: str, error: Exception) -> None:
    """Make writing the audit event for one person raise ``error``."""
    real_record_event = applying.record_event

    def record_event(**kwargs):
        if kwargs["target"].email == email:
            raise error
        return real_record_event(**kwargs)

    monkeypatch.setattr(applying, "record_event", record_event)


def test_database_error_rolls_back_row(tmp_path, monkeypatch):
    fail_audit_for(monkeypatch, "bo@example.com", IntegrityError("constraint failed"))
    content = (
        f"{HEADER},manager_email\n"
        "al@example.com,Al,Ng,it,\n"
        "bo@example.com,Bo,Ng,manager,\n"
        "cy@example.com,Cy,Ng,it,bo@example.com\n"
    )
    path = write_file(tmp_path, content)

    report = import_file(path)

    assert outcomes(report) == [
        (2, "created", "username al"),
        (
            3,
            "rejected",
            "The database rejected the row (constraint failed). Another change may "
            "have taken this e-mail or username meanwhile: import again.",
        ),
        (
            4,
            "rejected",
            'The manager "bo@example.com" on line 3 was not imported, so this row '
            "is rejected too: fix that row and import again.",
        ),
    ]
    assert list(User.objects.values_list("username", flat=True)) == ["al"]
    assert AuditEvent.objects.count() == 1


def test_unexpected_error_rolls_back_whole_import(tmp_path, monkeypatch):
    fail_audit_for(monkeypatch, "bo@example.com", RuntimeError("disk full"))
    content = f"{HEADER}\nal@example.com,Al,Ng,it\nbo@example.com,Bo,Ng,it\n"
    path = write_file(tmp_path, content)

    with pytest.raises(RuntimeError):
        import_file(path)

    assert not User.objects.exists()
    assert not AuditEvent.objects.exists()


def test_utf16_file_imported_with_encoding(tmp_path):
    content = f"{HEADER}\nmax@example.com,Max,Müller,warehouse\n"
    path = write_file(tmp_path, content.encode("utf-16"))

    report = import_file(path, encoding="utf-16")

    assert outcomes(report) == [(2, "created", "username max")]
    assert User.objects.get(username="max").last_name == "Müller"

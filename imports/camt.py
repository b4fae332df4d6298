"""Parse ISO 20022 CAMT.053 bank statements (camt.053.001.02 to .08).

The XML is parsed by defusedxml with DTDs, entity declarations and external
references forbidden, after the size check, so a billion-laughs file or an
external entity is rejected before any expansion. The root must be a
``Document`` in a supported camt.053 namespace. Each ``Ntry`` becomes one
``StatementEntry``. One bad entry fails the whole file, with a message that
names the statement and the entry: a missing amount, currency, credit/debit
mark or booking date, more decimals than the currency allows, an amount too
large to store, or a statement id or IBAN longer than its field.
"""

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from imports.limits import field_limit, money_too_large
from imports.models import BankStatementLine
from imports.reading import (
    ImportFileError,
    binary_file_message,
    check_size,
    decode,
    find_binary_data,
)

NAMESPACE_PATTERN = re.compile(
    r"urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.0([2-8])"
)
EXPECTED_NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001."
SUPPORTED_VERSIONS = tuple(f"camt.053.001.0{n}" for n in range(2, 9))
AMOUNT_PATTERN = re.compile(r"[0-9]{1,18}(\.[0-9]{1,5})?")
# The entry's text fields by BankStatementLine field, with the element named
# in the message. A value longer than its field rejects the file.
TEXT_ELEMENTS = {
    "entry_reference": "AcctSvcrRef",
    "end_to_end_id": "EndToEndId",
    "remittance_info": "remittance information (Ustrd)",
    "counterparty_name": "counterparty name (Nm)",
    "counterparty_iban": "counterparty IBAN",
    "bank_tx_code": "bank transaction code (BkTxCd)",
}


@dataclass(frozen=True)
class StatementEntry:
    statement_id: str
    account_iban: str
    index: int
    entry_reference: str
    booking_date: date
    value_date: date | None
    amount: Decimal
    currency: str
    direction: str
    end_to_end_id: str
    remittance_info: str
    counterparty_name: str
    counterparty_iban: str
    bank_tx_code: str
    raw: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Statement:
    version: str
    entries: list[StatementEntry]


def parse_statement(data: bytes, *, minor_units: dict[str, int]) -> Statement:
    """Return the entries of every statement in a CAMT.053 file, or raise."""
    check_size(data)
    root = _parse_xml(data)
    namespace = _namespace(root)
    match = NAMESPACE_PATTERN.fullmatch(namespace)
    if _local(root) != "Document":
        raise ImportFileError(
            f"The file is not a CAMT.053 statement: its root element is "
            f"{_local(root)}, not Document. Export the statement as ISO 20022 "
            f"camt.053 ({', '.join(SUPPORTED_VERSIONS)})."
        )
    if match is None:
        raise ImportFileError(_namespace_message(namespace))
    version = f"camt.053.001.0{match.group(1)}"
    reader = _Reader(_namespace(root))
    container = reader.required(root, "BkToCstmrStmt", where="the document")
    statements = reader.all(container, "Stmt")
    if not statements:
        raise ImportFileError(
            "The file has no statement (Stmt element). Export the statement again."
        )
    entries: list[StatementEntry] = []
    for statement in statements:
        entries.extend(reader.entries(statement, minor_units))
    return Statement(version=version, entries=entries)


def _namespace_message(namespace: str) -> str:
    if namespace:
        found = f'The Document element has the namespace "{namespace}"'
    else:
        found = "The Document element has no namespace (no xmlns attribute)"
    return (
        f"The file is not a CAMT.053 statement. {found}, but a CAMT.053 "
        f'statement has the namespace "{EXPECTED_NAMESPACE}08" (or versions '
        "02 to 07 in place of 08). Export the statement from the bank as "
        "ISO 20022 camt.053."
    )


def _check_text(data: bytes) -> None:
    """Reject binary data before the XML parser reports it as a syntax error."""
    text, encoding = decode(data)
    binary = find_binary_data(data, encoding=encoding, text=text)
    if binary is None:
        return
    if data.startswith(b"PK\x03\x04"):
        advice = (
            "It starts like a zip archive: banks often send statements zipped, "
            "so unpack it and upload the XML file inside."
        )
    else:
        advice = (
            "Export the statement from the bank again as ISO 20022 camt.053 "
            "XML, or check that you chose the right file."
        )
    raise ImportFileError(
        binary_file_message(data, binary, expected="an XML text file", advice=advice)
    )


def _parse_xml(data: bytes) -> Element:
    _check_text(data)
    try:
        return fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException:
        raise ImportFileError(
            "The file contains a DTD (DOCTYPE), an entity declaration or an "
            "external reference, which statements never need. It is rejected: "
            "export the statement from the bank again."
        ) from None
    except ParseError as error:
        raise ImportFileError(
            f"The file is not well-formed XML ({error}). Export the statement "
            "from the bank again."
        ) from None


def _namespace(element: Element) -> str:
    return element.tag[1:].split("}", 1)[0] if element.tag.startswith("{") else ""


def _local(element: Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


class _Reader:
    """Find CAMT elements by path within one namespace."""

    def __init__(self, namespace: str) -> None:
        self.ns = namespace

    def _path(self, path: str) -> str:
        return "/".join(f"{{{self.ns}}}{step}" for step in path.split("/"))

    def find(self, element: Element, path: str) -> Element | None:
        return element.find(self._path(path))

    def all(self, element: Element, path: str) -> list[Element]:
        return element.findall(self._path(path))

    def text(self, element: Element, *paths: str) -> str:
        for path in paths:
            found = self.find(element, path)
            if found is not None and found.text and found.text.strip():
                return found.text.strip()
        return ""

    def required(self, element: Element, path: str, *, where: str) -> Element:
        found = self.find(element, path)
        if found is None:
            raise ImportFileError(
                f"{_capitalize(where)} has no {path} element, which "
                "CAMT.053 requires. Export the statement again."
            )
        return found

    def entries(
        self, statement: Element, minor_units: dict[str, int]
    ) -> list[StatementEntry]:
        statement_id = self.text(statement, "Id")
        if not statement_id:
            raise ImportFileError(
                "A statement has no Id element, which CAMT.053 requires. "
                "Export the statement again."
            )
        iban = self.text(statement, "Acct/Id/IBAN")
        _check_length(statement_id, "statement_id", "statement Id")
        _check_length(iban, "account_iban", f"IBAN of statement {statement_id}")
        return [
            self.entry(entry, statement_id, iban, index, minor_units)
            for index, entry in enumerate(self.all(statement, "Ntry"), start=1)
        ]

    def raw_fields(self, entry: Element, direction: str) -> dict[str, str]:
        """Return the optional fields of an entry as text, empty when absent."""
        party = "Dbtr" if direction == "CRDT" else "Cdtr"
        details = self.find(entry, "NtryDtls/TxDtls")
        scope = details if details is not None else entry
        return {
            "direction": direction,
            "value_date": self.text(entry, "ValDt/Dt", "ValDt/DtTm"),
            "status": self.text(entry, "Sts/Cd", "Sts"),
            "entry_reference": self.text(entry, "AcctSvcrRef", "NtryRef"),
            "end_to_end_id": self.text(scope, "Refs/EndToEndId"),
            "remittance_info": self.text(
                scope, "RmtInf/Ustrd", "RmtInf/Strd/CdtrRefInf/Ref"
            ),
            "counterparty_name": self.text(
                scope, f"RltdPties/{party}/Nm", f"RltdPties/{party}/Pty/Nm"
            ),
            "counterparty_iban": self.text(scope, f"RltdPties/{party}Acct/Id/IBAN"),
            "bank_tx_code": self.text(
                entry, "BkTxCd/Prtry/Cd", "BkTxCd/Domn/Fmly/SubFmlyCd"
            ),
        }

    def entry(
        self,
        entry: Element,
        statement_id: str,
        iban: str,
        index: int,
        minor_units: dict[str, int],
    ) -> StatementEntry:
        where = f"entry {index} of statement {statement_id}"
        subject = _capitalize(where)

        amount_element = self.required(entry, "Amt", where=where)
        currency = (amount_element.get("Ccy") or "").strip().upper()
        amount = _amount(amount_element.text or "", currency, minor_units, where)

        direction = self.text(entry, "CdtDbtInd")
        if direction not in ("CRDT", "DBIT"):
            raise ImportFileError(
                f'{subject} has CdtDbtInd "{direction}"; CAMT.053 requires CRDT '
                "or DBIT. Export the statement again."
            )

        booking = self.text(entry, "BookgDt/Dt", "BookgDt/DtTm")
        if not booking:
            raise ImportFileError(
                f"{subject} has no booking date (BookgDt), which CAMT.053 "
                "requires. Export the statement again."
            )
        raw = self.raw_fields(entry, direction)
        raw.update(
            statement_id=statement_id,
            account_iban=iban,
            amount=(amount_element.text or "").strip(),
            currency=currency,
            booking_date=booking,
        )

        for field_name, element in TEXT_ELEMENTS.items():
            _check_length(raw[field_name], field_name, f"{element} of {where}")
        end_to_end = raw["end_to_end_id"]
        return StatementEntry(
            statement_id=statement_id,
            account_iban=iban,
            index=index,
            entry_reference=raw["entry_reference"] or f"#{index}",
            booking_date=_date(booking, where, "BookgDt"),
            value_date=_date(raw["value_date"], where, "ValDt")
            if raw["value_date"]
            else None,
            amount=amount,
            currency=currency,
            direction=direction,
            end_to_end_id="" if end_to_end == "NOTPROVIDED" else end_to_end,
            remittance_info=raw["remittance_info"],
            counterparty_name=raw["counterparty_name"],
            counterparty_iban=raw["counterparty_iban"],
            bank_tx_code=raw["bank_tx_code"],
            raw=raw,
        )


def _amount(
    text: str, currency: str, minor_units: dict[str, int], where: str
) -> Decimal:
    text = text.strip()
    subject = _capitalize(where)
    if currency not in minor_units:
        known = ", ".join(sorted(minor_units))
        raise ImportFileError(
            f'{subject} is in currency "{currency}", which is not set up. '
            f"Known currencies: {known}."
        )
    if not AMOUNT_PATTERN.fullmatch(text):
        raise ImportFileError(
            f'{subject} has amount "{text}", which is not a positive decimal '
            "amount as CAMT.053 writes it (such as 1250.00). Export the statement "
            "again."
        )
    try:
        amount = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        raise ImportFileError(f'{subject} has amount "{text}".') from None
    decimals = len(text.partition(".")[2])
    if decimals > minor_units[currency]:
        raise ImportFileError(
            f'{subject} has amount "{text}" {currency} with {decimals} decimals, '
            f"but {currency} allows {minor_units[currency]}. The file is rejected: "
            "ask the bank for a corrected statement."
        )
    if amount <= 0:
        raise ImportFileError(
            f'{subject} has amount "{text}", which is not above 0. Export the '
            "statement again."
        )
    problem = money_too_large(amount, "the amount")
    if problem is not None:
        raise ImportFileError(
            f"{subject} cannot be stored: {problem}. The file is rejected: ask "
            "the bank for a corrected statement."
        )
    return amount


def _capitalize(where: str) -> str:
    """Return ``where`` with a capital first letter, to start a sentence."""
    return where[:1].upper() + where[1:]


def _check_length(text: str, field_name: str, label: str) -> None:
    limit = field_limit(BankStatementLine, field_name).max_length
    if limit is not None and len(text) > limit:
        raise ImportFileError(
            f'The {label} "{text}" has {len(text)} characters, but at most {limit} '
            "are stored. The file is rejected: ask the bank for a corrected "
            "statement."
        )


def _date(text: str, where: str, element: str) -> date:
    subject = _capitalize(where)
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ImportFileError(
            f'{subject} has {element} "{text}", which is not a date such as '
            "2024-03-31. Export the statement again."
        ) from None

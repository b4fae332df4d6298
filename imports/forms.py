"""Forms for import sources, their column mappings and uploads."""

from datetime import date, datetime
from typing import Any, cast

from django import forms

from imports.kinds import FieldType, target_fields
from imports.models import ColumnMapping, ImportSource
from imports.reading import MACRO_EXTENSIONS
from imports.selectors import import_companies

FORMAT_EXTENSIONS = {
    ImportSource.FileFormat.CSV: (".csv", ".txt"),
    ImportSource.FileFormat.XLSX: (".xlsx",),
    ImportSource.FileFormat.CAMT053: (".xml",),
}
# Each format's name with its article, for the wrong-extension message.
FORMAT_NAMES = {
    ImportSource.FileFormat.CSV: "a CSV file",
    ImportSource.FileFormat.XLSX: "an Excel workbook (.xlsx)",
    ImportSource.FileFormat.CAMT053: "a CAMT.053 bank statement",
}
SAMPLE_DATE = date(2024, 3, 31)
# The date formats a mapping offers, as strftime patterns. A clerk picks one by
# its example, 31 December 2026 written in that format. The empty pattern is
# ISO 8601, which every date column also accepts.
DATE_FORMATS = (
    "",
    "%d.%m.%Y",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d-%m-%Y",
    "%Y/%m/%d",
    "%d.%m.%y",
    "%d/%m/%y",
    "%m/%d/%y",
    "%Y%m%d",
    "%d %b %Y",
)
EXAMPLE_DATE = date(2026, 12, 31)


def date_format_label(date_format: str) -> str:
    """Return how 31 December 2026 reads in ``date_format``, for a choice list."""
    if not date_format:
        return "2026-12-31 (year-month-day, the default)"
    return EXAMPLE_DATE.strftime(date_format)


def date_format_choices(saved: str) -> list[tuple[str, str]]:
    """Return the offered formats, plus ``saved`` when a mapping stored another."""
    choices = [(pattern, date_format_label(pattern)) for pattern in DATE_FORMATS]
    if saved and saved not in DATE_FORMATS:
        # A mapping saved before the list existed keeps its own pattern.
        choices.append((saved, f"{date_format_label(saved)} (saved format {saved})"))
    return choices


def reads_whole_date(date_format: str) -> bool:
    """Return whether a date written in ``date_format`` reads back as itself."""
    # Without a year strptime guesses one, which Python 3.15 will reject.
    if "%Y" not in date_format and "%y" not in date_format:
        return False
    try:
        text = SAMPLE_DATE.strftime(date_format)
        return datetime.strptime(text, date_format).date() == SAMPLE_DATE
    except ValueError:
        return False


class SourceForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = ImportSource
        fields = ["name", "company", "kind", "file_format"]
        error_messages = {
            "company": {
                "invalid_choice": (
                    "Company %(value)s cannot receive imports: it is a practice "
                    "sandbox or does not exist. Choose a company from the list."
                )
            }
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        company = cast(forms.ModelChoiceField, self.fields["company"])  # type: ignore[type-arg]
        company.queryset = import_companies()


class MappingForm(forms.Form):
    """One column header per target field, with its date format or separator."""

    def __init__(self, *args: Any, source: ImportSource, **kwargs: Any) -> None:
        current = {m.target_field: m for m in source.mappings.all()}
        initial: dict[str, str] = {}
        super().__init__(*args, **kwargs)
        for target in target_fields(source.kind):
            mapping = current.get(target.name)
            self.fields[f"column_{target.name}"] = forms.CharField(
                label=target.label,
                required=target.required,
                max_length=120,
                help_text="The column header in the file."
                + ("" if target.required else " Optional."),
            )
            initial[f"column_{target.name}"] = mapping.column if mapping else ""
            if target.type == FieldType.DATE:
                saved = mapping.date_format if mapping else ""
                self.fields[f"date_format_{target.name}"] = forms.ChoiceField(
                    label=f"{target.label}: date format",
                    required=False,
                    choices=date_format_choices(saved),
                    help_text=(
                        "How the file writes 31 December 2026. Dates written "
                        "as 2026-12-31 are accepted with every choice."
                    ),
                    error_messages={
                        "invalid_choice": (
                            '"%(value)s" is not one of the date formats offered. '
                            "Choose how the file writes 31 December 2026."
                        )
                    },
                )
                initial[f"date_format_{target.name}"] = saved
            if target.type in (FieldType.MONEY, FieldType.RATE, FieldType.QUANTITY):
                self.fields[f"decimal_separator_{target.name}"] = forms.ChoiceField(
                    label=f"{target.label}: decimal separator",
                    choices=ColumnMapping.DecimalSeparator.choices,
                )
                initial[f"decimal_separator_{target.name}"] = (
                    mapping.decimal_separator if mapping else "."
                )
        self.initial = {**initial, **self.initial}
        self.targets = target_fields(source.kind)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name, value in list(data.items()):
            if name.startswith("date_format_") and value:
                self._check_date_format(name, value)
        return data

    def _check_date_format(self, name: str, value: str) -> None:
        # The offered formats pass. A saved pattern from before the list may
        # lack the year, and then the clerk must choose an offered format.
        if not reads_whole_date(value):
            self.add_error(
                name,
                f'The saved date format "{value}" does not read a whole date '
                "(day, month and year). Choose how the file writes "
                "31 December 2026 from the list.",
            )

    def mappings(self) -> dict[str, dict[str, str]]:
        data = self.cleaned_data
        return {
            target.name: {
                "column": data.get(f"column_{target.name}", "").strip(),
                "date_format": data.get(f"date_format_{target.name}", "").strip(),
                "decimal_separator": data.get(f"decimal_separator_{target.name}", "."),
            }
            for target in self.targets
        }


class UploadForm(forms.Form):
    file = forms.FileField(label="File")

    def __init__(self, *args: Any, source: ImportSource, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.source = source

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        file_format = ImportSource.FileFormat(self.source.file_format)
        allowed = FORMAT_EXTENSIONS[file_format]
        name = upload.name or ""
        # A macro workbook passes on to the reader, whose message names macros.
        readable = (*allowed, *MACRO_EXTENSIONS) if ".xlsx" in allowed else allowed
        if not name.lower().endswith(readable):
            raise forms.ValidationError(
                f'"{name}" is not {FORMAT_NAMES[file_format]}. '
                f"Upload a file ending in {' or '.join(allowed)}."
            )
        return upload

"""Every notification kind the code sends is a declared ``Notification.Kind``.

An undeclared kind is stored as its raw value and the admin shows it
without a label, so ``notify`` rejects one and a scan of the source checks
each ``notify(kind=...)`` call.
"""

import ast
import importlib
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from notifications.models import Notification
from notifications.services import notify

SKIPPED_PARTS = {".venv", "tests", "migrations", "node_modules", "e2e", "bench"}


def source_files() -> list[Path]:
    root = Path(settings.BASE_DIR)
    return [
        path
        for path in sorted(root.rglob("*.py"))
        if not SKIPPED_PARTS & set(path.relative_to(root).parts)
    ]


def module_name(path: Path) -> str:
    relative = path.relative_to(Path(settings.BASE_DIR)).with_suffix("")
    return ".".join(relative.parts)


def _kind_references(function: ast.AST) -> list[ast.expr]:
    """Return the ``Notification.Kind.X`` expressions inside ``function``."""
    return [
        node
        for node in ast.walk(function)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "Kind"
    ]


def notify_kinds(path: Path) -> list[tuple[int, list[ast.expr]]]:
    """Return the line and the possible ``kind`` values of each ``notify`` call.

    A ``kind`` held in a local variable (assigned in a branch, or unpacked in
    a loop) may be any ``Notification.Kind`` member the enclosing function
    names, so all of those are returned for it.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        arguments = {argument.arg for argument in function.args.kwonlyargs}
        arguments |= {argument.arg for argument in function.args.args}
        local_names = {
            node.id
            for node in ast.walk(function)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
        }
        for node in ast.walk(function):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name != "notify":
                continue
            for keyword in node.keywords:
                if keyword.arg != "kind":
                    continue
                value = keyword.value
                assert not (isinstance(value, ast.Name) and value.id in arguments), (
                    f"{path}:{node.lineno} passes a kind through a parameter"
                )
                if isinstance(value, ast.Name) and value.id in local_names:
                    found.append((node.lineno, _kind_references(function)))
                else:
                    found.append((node.lineno, [value]))
    return found


def test_every_kind_sent_is_declared():
    sent: dict[str, list[str]] = {}
    for path in source_files():
        calls = notify_kinds(path)
        if not calls:
            continue
        module = importlib.import_module(module_name(path))
        for line, expressions in calls:
            where = f"{module_name(path)}:{line}"
            for expression in expressions:
                code = compile(ast.Expression(expression), where, "eval")
                # A kind is a constant, a module-level name or a local name
                # assigned one of them, so it is read without running the call.
                sent.setdefault(where, []).append(eval(code, vars(module)))  # noqa: S307

    assert len(sent) >= 20, sent
    undeclared = {
        where: kinds
        for where, kinds in sent.items()
        if not set(kinds) <= set(Notification.Kind.values)
    }
    assert undeclared == {}


@pytest.mark.django_db
def test_declared_kinds_have_a_migration():
    output = StringIO()
    call_command(
        "makemigrations", "notifications", check=True, dry_run=True, stdout=output
    )
    assert "No changes detected" in output.getvalue()


@pytest.mark.django_db
def test_notify_rejects_undeclared_kind(sales_rep):
    with pytest.raises(ValueError) as raised:
        notify(
            recipients=[sales_rep],
            kind="made_up",
            actor=None,
            message="Hello",
            url="/",
            subject_key="test:1",
        )
    assert str(raised.value) == (
        "Unknown notification kind 'made_up': declare it in Notification.Kind "
        "and add a migration."
    )
    assert not Notification.objects.exists()

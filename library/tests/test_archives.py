"""Demo packages: zip slip, archive bombs and limits, and clean-up on rejection."""

import io
import struct
import zipfile
from pathlib import PurePosixPath

import pytest

from library.archives import ArchiveError, PackageLimits, extract_package
from library.tests.conftest import make_zip, mark_encrypted

LIMITS = PackageLimits(
    max_entries=100, max_total_bytes=50 * 1024 * 1024, max_ratio=100, max_depth=8
)


def extract(content: bytes, limits: PackageLimits = LIMITS):
    return extract_package(
        io.BytesIO(content), archive_size=len(content), limits=limits
    )


def test_extract_package_writes_files(extraction_dir):
    content = make_zip(
        {"index.html": b"<p>demo</p>", "media/clip.txt": b"step one", "./a/b.txt": b"b"}
    )

    package = extract(content)

    assert package.files == [
        PurePosixPath("index.html"),
        PurePosixPath("media/clip.txt"),
        PurePosixPath("a/b.txt"),
    ]
    assert package.total_bytes == 20
    assert (package.root / "media" / "clip.txt").read_bytes() == b"step one"
    assert package.root.parent == extraction_dir


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "../../settings.py",
            "Entry '../../settings.py' points outside the package with '..'.",
        ),
        (
            "media/../../x.html",
            "Entry 'media/../../x.html' points outside the package with '..'.",
        ),
        ("/etc/passwd", "Entry '/etc/passwd' is an absolute path."),
        ("C:/Windows/x.dll", "Entry 'C:/Windows/x.dll' is an absolute path."),
        (
            "..\\..\\x.html",
            "Entry '..\\\\..\\\\x.html' uses a backslash: zip entry names separate "
            "folders with '/'. Re-create the zip with a standard tool.",
        ),
    ],
)
def test_extract_package_rejects_escaping_names(extraction_dir, name, message):
    content = make_zip({"index.html": b"ok", name: b"owned"})

    with pytest.raises(ArchiveError) as caught:
        extract(content)

    assert str(caught.value) == message
    assert caught.value.too_large is False
    assert list(extraction_dir.iterdir()) == []


def test_extract_package_rejects_symlink(extraction_dir):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.html", b"ok")
        link = zipfile.ZipInfo("escape")
        link.external_attr = 0o120777 << 16
        archive.writestr(link, b"/etc")

    with pytest.raises(ArchiveError) as caught:
        extract(buffer.getvalue())

    assert str(caught.value) == "Entry 'escape' is a symbolic link."
    assert list(extraction_dir.iterdir()) == []


def test_extract_package_rejects_names_differing_by_case(extraction_dir):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("Index.html", b"one")
        archive.writestr("index.html", b"two")

    with pytest.raises(ArchiveError, match="appears twice"):
        extract(buffer.getvalue())


def test_extract_package_rejects_encrypted_entry(extraction_dir):
    content = mark_encrypted(make_zip({"index.html": b"<p>demo</p>"}))

    with pytest.raises(ArchiveError) as caught:
        extract(content)

    assert str(caught.value) == (
        "Entry 'index.html' is encrypted with a password. Zip the package again "
        "without a password."
    )
    assert list(extraction_dir.iterdir()) == []


@pytest.mark.parametrize(
    "entries",
    [
        {"media": b"a file", "media/step1.html": b"<p>1</p>"},
        {"media/step1.html": b"<p>1</p>", "Media": b"a file"},
    ],
)
def test_package_file_folder_clash_rejected(extraction_dir, entries):
    file_name, folder_user = sorted(entries, key=lambda name: "/" in name)

    with pytest.raises(ArchiveError) as caught:
        extract(make_zip(entries))

    assert str(caught.value) == (
        f"Entry {file_name!r} is a file, but entry {folder_user!r} uses the same "
        "name as a folder."
    )
    assert list(extraction_dir.iterdir()) == []


def test_extract_package_rejects_overlong_name_part(extraction_dir):
    name = "media/" + "é" * 128 + ".html"
    content = make_zip({"index.html": b"<p>ok</p>", name: b"<p></p>"})

    with pytest.raises(ArchiveError) as caught:
        extract(content)

    assert str(caught.value) == (
        f"Entry {name!r} has a name part of 261 bytes; the limit is 255. "
        "Shorten the file or folder name and zip the package again."
    )
    assert list(extraction_dir.iterdir()) == []


def test_extract_package_accepts_name_part_of_255_bytes(extraction_dir):
    name = "x" * 250 + ".html"

    package = extract(make_zip({name: b"<p></p>"}))

    assert package.files == [PurePosixPath(name)]


def test_extract_package_rejects_too_many_entries(extraction_dir):
    content = make_zip({f"f{number}.txt": b"x" for number in range(101)})

    with pytest.raises(ArchiveError) as caught:
        extract(content)

    assert str(caught.value) == "The package has 101 entries; the limit is 100."
    assert caught.value.too_large is True
    assert list(extraction_dir.iterdir()) == []


def test_extract_package_rejects_declared_total_over_limit(extraction_dir):
    limits = PackageLimits(
        max_entries=100, max_total_bytes=1_000_000, max_ratio=10_000, max_depth=8
    )
    content = make_zip({"zeros.bin": bytes(2_000_000)})

    with pytest.raises(ArchiveError) as caught:
        extract(content, limits)

    assert str(caught.value) == (
        "The package would expand to 2000000 bytes; the limit is 1000000 bytes."
    )
    assert caught.value.too_large is True


def test_extract_package_counts_ratio_while_streaming(extraction_dir):
    # About 6 KB of zip expanding to 6 MB: the ratio limit of 100 stops it
    # after the first MiB of output, although the declared sizes are in limit.
    content = make_zip({"a.txt": b"ok", "zeros.bin": bytes(6 * 1024 * 1024)})
    assert len(content) < 10_000

    with pytest.raises(ArchiveError) as caught:
        extract(content)

    assert str(caught.value) == (
        "The package expands more than 100 times its size, the limit for "
        "compression ratio."
    )
    assert caught.value.too_large is True
    assert list(extraction_dir.iterdir()) == []


def test_extract_package_rejects_under_declared_sizes(extraction_dir):
    content = bytearray(make_zip({"big.txt": b"abc" * 100_000}))
    directory = content.index(b"PK\x01\x02")
    # The uncompressed size sits 24 bytes into a central directory header.
    struct.pack_into("<I", content, directory + 24, 10)

    with pytest.raises(ArchiveError) as caught:
        extract(bytes(content))

    assert str(caught.value) == (
        "Entry 'big.txt' cannot be read: the package is damaged or its sizes are "
        "forged, so zip the folder again and upload the new file."
    )

    assert list(extraction_dir.iterdir()) == []


def test_extract_package_rejects_nested_archive(extraction_dir):
    inner = make_zip({"index.html": b"inner"})
    content = make_zip({"index.html": b"outer", "inner.zip": inner})

    with pytest.raises(ArchiveError) as caught:
        extract(content)

    assert str(caught.value) == (
        "Entry 'inner.zip' is itself an archive; packages may not contain archives."
    )
    assert caught.value.too_large is True
    assert list(extraction_dir.iterdir()) == []


def test_extract_package_rejects_deep_paths(extraction_dir):
    content = make_zip({"/".join(["d"] * 9) + ".txt": b"deep"})

    with pytest.raises(ArchiveError) as caught:
        extract(content)

    assert str(caught.value) == (
        "Entry 'd/d/d/d/d/d/d/d/d.txt' is 9 levels deep; the limit is 8."
    )


def test_extract_package_rejects_non_zip(extraction_dir):
    with pytest.raises(ArchiveError) as caught:
        extract(b"PK\x03\x04" + bytes(30))

    assert str(caught.value) == (
        "The package is not a readable zip file: it may be damaged or "
        "incomplete, so zip the folder again and upload the new file."
    )

    assert list(extraction_dir.iterdir()) == []

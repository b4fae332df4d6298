"""Check and extract demo packages (zip files) without trusting their contents.

Every entry is checked before anything is written: no ``..`` parts, no
absolute or drive paths, no backslashes, no symlinks, no NUL bytes, no
encrypted entries, no name part longer than a file system allows, no name
used both as a file and as a folder, and the resolved path must stay inside
the extraction root. Output bytes are
counted while they stream out of the decompressor, so sizes declared in the
zip's directory are never relied on. Entry count, total bytes, compression
ratio, directory depth and nested archives are limited. A rejected package
leaves nothing on disk.
"""

import logging
import re
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from django.conf import settings

logger = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 1024
# Below this much output the ratio limit does not apply, so a small package
# of very repetitive text (a 2 KB zip of 300 KB of CSS) is accepted.
RATIO_FLOOR_BYTES = 1024 * 1024
# First bytes of archive formats a package may not contain: zip, gzip,
# bzip2, xz, 7z and RAR.
NESTED_ARCHIVE_MAGIC = (
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ\x00",
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!\x1a\x07",
)
DRIVE_PATH = re.compile(r"^[A-Za-z]:")
# Longest file or folder name, in bytes of UTF-8, that common Linux file
# systems (ext4, XFS, Btrfs) accept.
MAX_NAME_PART_BYTES = 255
# Bit 0 of a zip entry's general purpose flags marks it as encrypted.
ENCRYPTED_FLAG = 0x1


class ArchiveError(ValueError):
    """A package that is rejected; ``too_large`` marks size and count limits."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


@dataclass(frozen=True)
class PackageLimits:
    max_entries: int
    max_total_bytes: int
    max_ratio: int
    max_depth: int

    @classmethod
    def from_settings(cls) -> "PackageLimits":
        return cls(
            max_entries=settings.LIBRARY_PACKAGE_MAX_ENTRIES,
            max_total_bytes=settings.LIBRARY_PACKAGE_MAX_UNCOMPRESSED_BYTES,
            max_ratio=settings.LIBRARY_PACKAGE_MAX_RATIO,
            max_depth=settings.LIBRARY_PACKAGE_MAX_DEPTH,
        )


@dataclass(frozen=True)
class ExtractedPackage:
    root: Path
    files: list[PurePosixPath]
    total_bytes: int


def safe_entry_path(name: str, *, max_depth: int) -> PurePosixPath:
    """Return the relative path for entry ``name``, or raise ArchiveError."""
    quoted = name[:200]
    if "\x00" in name:
        raise ArchiveError(f"Entry {quoted!r} has a NUL byte in its name.")
    if "\\" in name:
        raise ArchiveError(
            f"Entry {quoted!r} uses a backslash: zip entry names separate "
            "folders with '/'. Re-create the zip with a standard tool."
        )
    if name.startswith("/") or DRIVE_PATH.match(name):
        raise ArchiveError(f"Entry {quoted!r} is an absolute path.")

    parts = [part for part in name.split("/") if part not in {"", "."}]
    if ".." in parts:
        raise ArchiveError(f"Entry {quoted!r} points outside the package with '..'.")
    if not parts:
        raise ArchiveError(f"Entry {quoted!r} has no file name.")
    for part in parts:
        if len(part.encode()) > MAX_NAME_PART_BYTES:
            raise ArchiveError(
                f"Entry {quoted!r} has a name part of {len(part.encode())} bytes; "
                f"the limit is {MAX_NAME_PART_BYTES}. Shorten the file or folder "
                "name and zip the package again."
            )
    if len(parts) > max_depth:
        raise ArchiveError(
            f"Entry {quoted!r} is {len(parts)} levels deep; the limit is {max_depth}.",
            too_large=True,
        )
    return PurePosixPath(*parts)


def is_symlink(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return stat.S_ISLNK(mode)


def check_entries(
    infos: list[zipfile.ZipInfo], *, max_depth: int
) -> list[PurePosixPath]:
    """Return the relative path of every entry, or raise ArchiveError.

    Names are compared casefolded, because the files may be served from a
    case-insensitive file system or storage.
    """
    paths: list[PurePosixPath] = []
    entries: dict[str, str] = {}
    folders: dict[str, str] = {}
    for info in infos:
        relative = safe_entry_path(info.filename, max_depth=max_depth)
        quoted = info.filename[:200]
        if is_symlink(info):
            raise ArchiveError(f"Entry {quoted!r} is a symbolic link.")
        if info.flag_bits & ENCRYPTED_FLAG:
            raise ArchiveError(
                f"Entry {quoted!r} is encrypted with a password. Zip the package "
                "again without a password."
            )

        key = str(relative).casefold()
        if key in entries:
            raise ArchiveError(f"Entry {quoted!r} appears twice.")
        entries[key] = info.filename
        if info.is_dir():
            folders.setdefault(key, info.filename)
        for parent in relative.parents:
            if parent.parts:
                folders.setdefault(str(parent).casefold(), info.filename)
        paths.append(relative)

    for info, relative in zip(infos, paths, strict=True):
        key = str(relative).casefold()
        if not info.is_dir() and key in folders:
            raise ArchiveError(
                f"Entry {info.filename[:200]!r} is a file, but entry "
                f"{folders[key][:200]!r} uses the same name as a folder."
            )
    return paths


def extract_package(
    stream: IO[bytes], *, archive_size: int, limits: PackageLimits
) -> ExtractedPackage:
    """Check every entry and extract into a new temporary directory.

    The caller owns the returned directory and removes it when done. On any
    rejection the directory is removed before ArchiveError is raised.
    """
    root = Path(tempfile.mkdtemp(prefix="library-package-"))
    try:
        return _extract_into(root, stream, archive_size=archive_size, limits=limits)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


def _extract_into(
    root: Path, stream: IO[bytes], *, archive_size: int, limits: PackageLimits
) -> ExtractedPackage:
    try:
        archive = zipfile.ZipFile(stream)
    except zipfile.BadZipFile as error:
        logger.info("library.package_unreadable error=%s", error)
        raise ArchiveError(
            "The package is not a readable zip file: it may be damaged or "
            "incomplete, so zip the folder again and upload the new file."
        ) from None

    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_entries:
            raise ArchiveError(
                f"The package has {len(infos)} entries; the limit is "
                f"{limits.max_entries}.",
                too_large=True,
            )
        _check_declared_total(infos, limits)
        paths = check_entries(infos, max_depth=limits.max_depth)

        writer = _Writer(root=root, archive_size=archive_size, limits=limits)
        for info, relative in zip(infos, paths, strict=True):
            writer.write_entry(archive, info, relative)
    return ExtractedPackage(root=root, files=writer.files, total_bytes=writer.total)


def _check_declared_total(infos: list[zipfile.ZipInfo], limits: PackageLimits) -> None:
    """Reject early when even the declared sizes are over the limit."""
    declared = sum(info.file_size for info in infos)
    if declared > limits.max_total_bytes:
        raise ArchiveError(
            f"The package would expand to {declared} bytes; the limit is "
            f"{limits.max_total_bytes} bytes.",
            too_large=True,
        )


class _Writer:
    def __init__(self, *, root: Path, archive_size: int, limits: PackageLimits):
        self.root = root
        self.resolved_root = root.resolve()
        self.limits = limits
        self.ratio_limit = max(
            limits.max_ratio * max(archive_size, 1), RATIO_FLOOR_BYTES
        )
        self.total = 0
        self.files: list[PurePosixPath] = []

    def write_entry(
        self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, relative: PurePosixPath
    ) -> None:
        target = (self.root / relative).resolve()
        if not target.is_relative_to(self.resolved_root):
            raise ArchiveError(
                f"Entry {info.filename[:200]!r} resolves outside the package."
            )

        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        self._stream_entry(archive, info, target)
        self.files.append(relative)

    def _stream_entry(
        self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path
    ) -> None:
        try:
            with archive.open(info) as source, target.open("xb") as output:
                first = True
                while chunk := source.read(CHUNK_BYTES):
                    if first and chunk.startswith(NESTED_ARCHIVE_MAGIC):
                        raise ArchiveError(
                            f"Entry {info.filename[:200]!r} is itself an archive; "
                            "packages may not contain archives.",
                            too_large=True,
                        )
                    first = False
                    self._count(len(chunk))
                    output.write(chunk)
        except (zipfile.BadZipFile, EOFError, NotImplementedError) as error:
            # A directory that under-declares an entry's size ends in a CRC
            # mismatch here, because zipfile stops at the declared size.
            logger.info(
                "library.package_entry_unreadable entry=%r error=%s",
                info.filename[:200],
                error,
            )
            raise ArchiveError(
                f"Entry {info.filename[:200]!r} cannot be read: the package is "
                "damaged or its sizes are forged, so zip the folder again and "
                "upload the new file."
            ) from None

    def _count(self, size: int) -> None:
        self.total += size
        if self.total > self.limits.max_total_bytes:
            raise ArchiveError(
                f"The package expands to more than {self.limits.max_total_bytes} "
                "bytes, the limit.",
                too_large=True,
            )
        if self.total > self.ratio_limit:
            raise ArchiveError(
                f"The package expands more than {self.limits.max_ratio} times its "
                "size, the limit for compression ratio.",
                too_large=True,
            )

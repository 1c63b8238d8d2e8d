"""`bwmigrate scan`: find v1 usage in the customer's code and configuration.

The CLI side: walks the given paths (skipping VCS folders, virtual environments,
node_modules, caches, binaries, oversized files, FIFOs and devices, and every symlink, also one
named on the command line, so nothing outside the tree is ever read; `--verbose` names each
skipped path and why), reads each file, runs the rule table (`orchestrator.v1.scan_rules`)
and prints text, JSON or SARIF. `--fix` rewrites only the safe rules' findings in place (atomically,
keeping the file's mode), prints a unified diff, and re-scans what it wrote.
"""

from __future__ import annotations

import difflib
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import click

from orchestrator.cli.options import json_option
from orchestrator.errors import ExitCode
from orchestrator.text import printable
from orchestrator.v1.scan_report import ScanStats, render_json, render_sarif, render_text
from orchestrator.v1.scan_rules import FIXABLE, Finding, apply_fixes, scan_text

MAX_FILE_BYTES = 16 * 1024 * 1024
_SKIP_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", ".bzr", "_darcs", "CVS", ".jj", "node_modules", "bower_components",
        ".venv", "venv", ".virtualenv", "virtualenv", ".tox", ".nox", "site-packages",
        "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".gradle", ".terraform",
    }
)  # fmt: skip
_BINARY_SUFFIXES = frozenset(
    {
        ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".webp", ".pdf", ".zip", ".gz", ".tgz",
        ".bz2", ".xz", ".7z", ".jar", ".war", ".class", ".so", ".dll", ".dylib", ".exe", ".o",
        ".a", ".pyc", ".pyo", ".whl", ".woff", ".woff2", ".ttf", ".otf", ".mp3", ".mp4", ".wav",
        ".mov", ".xlsx", ".xls", ".docx", ".db", ".sqlite", ".bin", ".dat", ".nupkg",
    }
)  # fmt: skip
_SNIFF_BYTES = 8192


def _is_venv(path: str) -> bool:
    return os.path.exists(os.path.join(path, "pyvenv.cfg"))


def walk(paths: tuple[Path, ...], stats: ScanStats) -> Iterator[Path]:
    """Every candidate file under `paths`, in a stable order; skipped entries are counted.

    A symlink is never followed, named on the command line or found in a folder (so nothing
    outside the tree is read). A PATH that is not a folder is yielded as it is: `read_text`
    decides (it never opens a FIFO or a device).
    """
    for given in paths:
        if given.is_symlink():
            _skip_symlink(str(given), stats)
        elif not given.is_dir():
            yield given
        else:
            yield from _walk_folder(given, stats)


def _walk_folder(folder: Path, stats: ScanStats) -> Iterator[Path]:
    def unreadable(exc: OSError) -> None:
        stats.skip(str(exc.filename), "unreadable", f"unreadable folder ({exc.strerror})")

    for top, dirs, files in os.walk(folder, followlinks=False, onerror=unreadable):
        kept = []
        for name in sorted(dirs):
            full = os.path.join(top, name)
            if os.path.islink(full):
                _skip_symlink(full, stats)
            elif name in _SKIP_DIRS:
                stats.skip(full, "excluded folders", f"excluded folder ({name})")
            elif _is_venv(full):
                stats.skip(full, "excluded folders", "excluded folder (virtual environment)")
            else:
                kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            yield Path(top, name)


def _skip_symlink(path: str, stats: ScanStats) -> None:
    target = os.path.realpath(path)
    where = f"scan its target: {target}" if os.path.exists(target) else "its target is missing"
    stats.skip(path, "symlinks", f"symlink (not followed; {where})")


_SPECIAL_KINDS = (
    (stat.S_ISFIFO, "FIFO"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
    (stat.S_ISSOCK, "socket"),
)


def read_text(path: Path, stats: ScanStats) -> tuple[str, bool] | None:
    """(text, is UTF-8) of a scannable file, or None when it is skipped (counted, with why)."""
    shown = str(path)
    try:
        info = path.lstat()
    except OSError as exc:
        stats.skip(shown, "unreadable", f"unreadable ({exc.strerror})")
        return None
    if stat.S_ISLNK(info.st_mode):
        _skip_symlink(shown, stats)
        return None
    if not stat.S_ISREG(info.st_mode):
        kind = next((k for test, k in _SPECIAL_KINDS if test(info.st_mode)), "not a regular file")
        stats.skip(shown, "special files", f"special file ({kind})")
        return None
    if path.suffix.lower() in _BINARY_SUFFIXES:
        stats.skip(shown, "binary", f"binary ({path.suffix.lower()} file)")
        return None
    if info.st_size > MAX_FILE_BYTES:
        stats.skip(shown, "too large", f"too large ({info.st_size:,} bytes; the limit is 16 MiB)")
        return None
    try:
        data = path.read_bytes()
    except OSError as exc:
        stats.skip(shown, "unreadable", f"unreadable ({exc.strerror})")
        return None
    if b"\x00" in data[:_SNIFF_BYTES]:
        stats.skip(shown, "binary", "binary (NUL byte in the first 8 KiB)")
        return None
    stats.files += 1
    stats.bytes += len(data)
    try:
        return data.decode("utf-8"), True
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), False


def _write_atomically(path: Path, text: str) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _fix_file(path: Path, shown: str, text: str, findings: list[Finding]) -> tuple[str, int]:
    """Rewrite the fixable findings of one file; (unified diff, fixes applied)."""
    new, applied = apply_fixes(text, findings)
    if not applied or new == text:
        return "", 0
    _write_atomically(path, new)
    diff = difflib.unified_diff(
        text.splitlines(keepends=True), new.splitlines(keepends=True),
        fromfile=f"a/{shown}", tofile=f"b/{shown}",
    )  # fmt: skip
    return "".join(
        printable(line.removesuffix("\n").removesuffix("\r")) + "\n" for line in diff
    ), applied


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@json_option("Print findings as one JSON object.")
@click.option("--sarif", "as_sarif", is_flag=True, help="Print a SARIF 2.1.0 log.")
@click.option("--fix", is_flag=True, help="Rewrite v1 base URLs and paths in place (BW001-"
              "BW004) and print a unified diff; report everything else.")  # fmt: skip
@click.option("--verbose", "-v", is_flag=True, help="List every skipped path and why (text: "
              "before the summary; --json: summary.skipped_files; --sarif: notes of the "
              "invocation).")  # fmt: skip
def scan(paths: tuple[Path, ...], as_json: bool, as_sarif: bool, fix: bool, verbose: bool) -> None:
    """Find v1 API usage in code, scripts and configuration (PATH: files or folders).

    One rule per breaking change of the v2 guide; each finding names file, line, column, rule
    and the v2 replacement. Skips binaries, VCS folders, virtual environments, node_modules
    and symlinks (also when named as PATH); FIFOs and devices are never opened; --verbose
    names each skipped path. Exit 0 when nothing is found, 1 when something is, 2 on bad usage.
    """
    if as_json and as_sarif:
        raise click.UsageError("give --json or --sarif, not both")
    stats = ScanStats()
    findings: list[Finding] = []
    diffs: list[str] = []
    for path in walk(paths, stats):
        read = read_text(path, stats)
        if read is None:
            continue
        text, utf8 = read
        shown = str(path)
        found = scan_text(shown, text)
        if fix and utf8 and any(f.rule.id in FIXABLE for f in found):
            diff, applied = _fix_file(path, shown, text, found)
            if applied:
                diffs.append(diff)
                stats.fixed += applied
                stats.fixed_files += 1
                found = scan_text(shown, path.read_text(encoding="utf-8"))
        elif fix and not utf8 and any(f.rule.id in FIXABLE for f in found):
            stats.skip(shown, "not fixed (not UTF-8)", "not fixed: not UTF-8 (findings reported)")
        findings += found
    if diffs:
        click.echo("".join(diffs), nl=False, err=as_json or as_sarif)
    if as_json:
        click.echo(render_json(findings, stats, verbose=verbose), nl=False)
    elif as_sarif:
        root = Path.cwd().resolve().as_uri().rstrip("/") + "/"
        click.echo(render_sarif(findings, stats, root, verbose=verbose), nl=False)
    else:
        click.echo(render_text(findings, stats, verbose=verbose), nl=False)
    sys.exit(int(ExitCode.FAILED_NUMBERS if findings else ExitCode.OK))

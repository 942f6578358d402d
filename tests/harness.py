"""Run the Python on every page the way a reader would, and check what it prints.

sybil finds the fenced blocks; the pieces it cannot provide live here:

* ``--8<--`` lines inside a block are expanded with pymdownx.snippets' own
  preprocessor, configured from mkdocs.yml, so the test runs exactly what the
  site shows (sybil would execute the include line as Python).
* Output is shown as ``#>`` comment lines under the statement that prints it.
  Copied code stays runnable; sybil's evaluators compare doctest prompts, not
  comments, so the evaluator splits a block into top-level statements, runs
  them one at a time and compares each one's output with the ``#>`` lines that
  follow it. A statement may raise only if it is the last of its block (a
  reader's copy stops there) and its ``#>`` lines show the error.
* ``console`` blocks run their ``$ python ...`` commands and compare the output.
* A fence that looks like Python but is not exactly ``python`` fails: sybil
  would skip it silently.
* A page's python blocks run as a reader without a clone runs them: from an
  empty folder of its own, with this repository's packages (``snippets``
  above all) not importable. A page needs nothing but public packages. Each
  page's code runs once (``runs_python``); console blocks run from the
  repository.
"""

from __future__ import annotations

import ast
import collections
import contextlib
import importlib.abc
import io
import os
import re
import shlex
import subprocess
import sys
import tempfile
import traceback
import warnings
from functools import cache
from pathlib import Path

import markdown
import yaml
from sybil import Document, Example, Sybil
from sybil.parsers.markdown.lexers import FencedCodeBlockLexer

from tests.forks import Zygote

ROOT = Path(__file__).resolve().parent.parent
OUTPUT_MARK = "#>"
# Info strings a reader would take for Python (or a Python session) that the
# harness does not run: it refuses them rather than skip them silently.
PYTHONISH = re.compile(r"^(py|python|python3|pycon|ipython|ipython3)\b|^\{?\.?py", re.I)
# PyTorch ends warnings raised in C++ with the build's source path and line,
# which differ between wheels of one release (CPU and CUDA builds, say).
TRIGGERED = re.compile(r"\s*\(Triggered internally at [^)]*\)\s*$")
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


class YamlLoader(yaml.SafeLoader):
    """mkdocs.yml may hold !!python/name tags; the harness only needs plain values."""


YamlLoader.add_multi_constructor("tag:yaml.org,2002:python/", lambda *_: None)
YamlLoader.add_multi_constructor("!", lambda *_: None)


@cache
def snippet_config() -> dict:
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), YamlLoader)
    for entry in config["markdown_extensions"]:
        if isinstance(entry, dict) and "pymdownx.snippets" in entry:
            return entry["pymdownx.snippets"] or {}
    raise RuntimeError("mkdocs.yml does not enable pymdownx.snippets")


def expand_includes(source: str) -> str:
    """Replace ``--8<--`` lines with the text they include, as the site does."""
    if "8<" not in source:
        return source
    config = dict(snippet_config())
    config["base_path"] = [str(ROOT / p) for p in config.get("base_path", ["."])]
    md = markdown.Markdown(extensions=["pymdownx.snippets"],
                           extension_configs={"pymdownx.snippets": config})
    return "\n".join(md.preprocessors["snippet"].run(source.splitlines()))


def where_is(example: Example) -> str:
    path = Path(example.path)
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    return f"{shown}, block at line {example.line}"


# ---------------------------------------------------------------- comparing

# The one comparison of what a page shows with what code printed: the
# harness's python and console blocks, the notebooks' kernels and the
# notebooks rendered on the site all go through outputs_match. A page prints
# only the digits that hold on other CPUs, thread counts and GPUs (README,
# "Outputs on any machine"); this tolerance is for a value that lies next to
# a rounding boundary, where the last shown digit may still flip.

def _same_line(expected: str, actual: str) -> bool:
    """Equal, except that a number may differ by one unit in its last shown digit."""
    if expected == actual:
        return True
    if NUMBER.split(expected) != NUMBER.split(actual):
        return False
    for want, got in zip(NUMBER.findall(expected), NUMBER.findall(actual)):
        if want == got:
            continue
        mantissa = want.lower().split("e")[0]
        decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
        if decimals == 0:
            return False
        exponent = int(want.lower().split("e")[1]) if "e" in want.lower() else 0
        if abs(float(want) - float(got)) > 1.0001 * 10.0 ** (exponent - decimals):
            return False
    return True


# A shown line may hold for some torch releases only: "[torch<2.11] text"
# (after the "#>" of a python block, or as a line of a console block's
# output) is printed by the releases its specifier matches, and by no other.
# The lines without one are printed by every supported release. The reader
# sees the marked line where it is printed. Adjacent lines with the same mark
# may come in any order, even interleaved character by character, since
# several processes write them. (README, "Supported releases".)
RELEASE_MARK = re.compile(r"^\[torch((?:[<>=!~]=?|===)[0-9][0-9.*]*"
                          r"(?:,\s*(?:[<>=!~]=?)[0-9][0-9.*]*)*)\] ?")


@cache
def torch_release() -> str:
    """The installed torch's release, without a build tag: 2.10.0, not 2.10.0+cu128."""
    from importlib.metadata import version

    from packaging.version import Version
    return Version(version("torch")).base_version


def release_marks(lines: list[str]) -> list[str]:
    """The release specifiers the lines are marked with, in order."""
    return [mark.group(1) for mark in map(RELEASE_MARK.match, lines) if mark]


def for_release(lines: list[str], release: str | None = None) -> list[list[str]]:
    """The shown lines that ``release`` (the installed torch by default) prints,
    in groups: each unmarked line alone, and adjacent lines with the same mark
    together, which may come in any order (several processes print them)."""
    from packaging.specifiers import SpecifierSet

    release = release or torch_release()
    groups: list[list[str]] = []
    last = None
    for line in lines:
        mark = RELEASE_MARK.match(line)
        if mark is None:
            groups.append([line])
        elif SpecifierSet(mark.group(1)).contains(release):
            if mark.group(1) == last:
                groups[-1].append(line[mark.end():])
            else:
                groups.append([line[mark.end():]])
        last = mark and mark.group(1)
    return groups


def outputs_match(expected: list[str], actual: list[str]) -> bool:
    """The same lines in the same order, each equal but for one unit in the
    last shown digit of its numbers; of the shown lines, those the installed
    torch release prints (for_release)."""
    position = 0
    for group in for_release(expected):
        printed = actual[position:position + len(group)]
        if len(group) > 1:
            if len(printed) < len(group) or not all(map(_same_line, sorted(group),
                                                        sorted(printed))):
                printed = _interleaved(group, actual[position:])
                if printed is None:
                    return False
        elif len(printed) < len(group) or not all(map(_same_line, group, printed)):
            return False
        position += len(printed)
    return position == len(actual)


def _interleaved(group: list[str], actual: list[str]) -> list[str] | None:
    """The first lines of ``actual`` if they hold exactly the characters of
    ``group``'s lines, in any order: processes that write to one stream at the
    same moment can interleave their lines character by character (gloo's two
    "connected" lines under torchrun, in torch 2.10)."""
    need = sum(len(line) + 1 for line in group)
    taken: list[str] = []
    size = 0
    for line in actual:
        if size >= need:
            break
        taken.append(line)
        size += len(line) + 1
    same = size == need and collections.Counter("\n".join(taken)) == collections.Counter("\n".join(group))
    return taken if same else None


def _diff(expected: list[str], actual: list[str]) -> str:
    show = lambda lines: "\n".join(f"    {OUTPUT_MARK} {l}" for l in lines) or "    (nothing)"
    return f"the page shows:\n{show(expected)}\nthe code prints:\n{show(actual)}"


# ------------------------------------------------------------ python blocks

def output_comments(lines: list[str], start: int, stop: int) -> list[str]:
    """The text of the ``#>`` lines among lines[start:stop]."""
    found = []
    for line in lines[start:stop]:
        text = line.strip()
        if text.startswith(OUTPUT_MARK):
            found.append(text[len(OUTPUT_MARK):].removeprefix(" "))
    return found


def run_statement(statement: ast.stmt, filename: str, namespace: dict):
    """Run one statement; return (printed lines, exception or None)."""
    # dont_inherit: this module's `from __future__ import annotations` must not
    # reach the page's code, whose annotations a reader's Python evaluates.
    code = compile(ast.Module([statement], type_ignores=[]), filename, "exec", dont_inherit=True)
    out = io.StringIO()
    error = None
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out):
        warnings.simplefilter("always")
        try:
            exec(code, namespace)
        except Exception as exc:  # noqa: BLE001 - compared with the page below
            error = exc
    lines = out.getvalue().splitlines()
    for w in caught:
        lines += f"{w.category.__name__}: {TRIGGERED.sub('', str(w.message))}".splitlines()
    return lines, error


class Settings:
    #: With ``pytest --update-outputs`` the ``#>`` lines of inline blocks are
    #: rewritten from what the code prints, instead of compared.
    update = False
    #: Per page: (where the block starts, where it ends, old code, new code).
    edits: dict[str, list[tuple[int, int, str, str]]] = {}
    #: With ``pytest --notebook-pages`` the notebook pages' python blocks run
    #: as pages too (make versions: no build executes them there).
    notebook_pages = False


def evaluate_python(example: Example) -> None:
    source = expand_includes(example.parsed)
    where = where_is(example)
    lines = source.splitlines()
    statements = ast.parse(source).body
    if statements and output_comments(lines, 0, statements[0].lineno - 1):
        raise AssertionError(f"{where}: an output line comes before any statement")
    new_lines = lines[:statements[0].lineno - 1] if statements else lines
    for i, statement in enumerate(statements):
        if output_comments(lines, statement.lineno - 1, statement.end_lineno):
            raise AssertionError(f"{where}, line {statement.lineno}: output lines inside a "
                                 "compound statement; put them after it")
        last = i + 1 == len(statements)
        following = len(lines) if last else statements[i + 1].lineno - 1
        expected = output_comments(lines, statement.end_lineno, following)
        printed, error = run_statement(statement, where, example.namespace)
        code = "\n".join(lines[statement.lineno - 1:statement.end_lineno])
        actual = printed
        if error is not None:
            actual = printed + "".join(
                traceback.format_exception_only(type(error), error)).rstrip("\n").splitlines()
            if not last:
                raise AssertionError(
                    f"{where}: this statement raised, and a statement that raises must end its"
                    f" block, since a reader's copy stops there\n{code}\n"
                    + "".join(traceback.format_exception(error))) from error
            if Settings.update and not expected:
                raise AssertionError(
                    f"{where}: this statement raised, and the page shows no output for it;"
                    " --update-outputs rewrites errors a page already shows, and writes no new"
                    f" one\n{code}\n" + "".join(traceback.format_exception(error))) from error
        if Settings.update and release_marks(expected):
            # Lines for other releases cannot be written from this one: kept
            # while this release's lines still hold.
            if not outputs_match(expected, actual):
                raise AssertionError(f"{where}, line {statement.lineno}: the output shows lines"
                                     " for other torch releases; --update-outputs does not"
                                     " rewrite it: edit it by hand\n" + _diff(expected, actual))
            new_lines += lines[statement.lineno - 1:following]
        elif Settings.update:
            new_lines += lines[statement.lineno - 1:statement.end_lineno]
            new_lines += [f"{OUTPUT_MARK} {line}".rstrip() for line in actual]
            new_lines += [line for line in lines[statement.end_lineno:following]
                          if not line.strip().startswith(OUTPUT_MARK)]
        elif not outputs_match(expected, actual):
            raised = "".join(traceback.format_exception(error)) if error else ""
            raise AssertionError(f"{where}, line {statement.lineno}:\n{code}\n"
                                 + _diff(expected, actual) + ("\n" + raised if raised else ""))
    if Settings.update and new_lines != lines:
        if source != example.parsed:
            raise AssertionError(f"{where}: --update-outputs rewrites only blocks without"
                                 " --8<-- includes; move the printing lines to a block of their own")
        Settings.edits.setdefault(example.path, []).append(
            (example.start, example.end, str(example.parsed), "\n".join(new_lines) + "\n"))


def indented(block: str, indent: str) -> str:
    return "".join(indent + line if line.strip() else line
                   for line in block.splitlines(keepends=True))


def write_updates() -> list[str]:
    """Write the rewritten blocks back into their pages; return the pages changed."""
    for path, edits in Settings.edits.items():
        text = Path(path).read_text(encoding="utf-8")
        # From the last block up, so that the positions of the blocks above
        # stay valid.
        for start, end, old, new in sorted(edits, reverse=True):
            # sybil hands the code over dedented; on the page it is indented
            # like its fence (inside an admonition: an exercise's solution).
            fence = text[start:end]
            indent = fence[:len(fence) - len(fence.lstrip(" "))]
            if fence.count(indented(old, indent)) != 1:
                raise RuntimeError(f"{path}: cannot place the updated block uniquely")
            text = text[:start] + fence.replace(indented(old, indent),
                                                indented(new, indent)) + text[end:]
        Path(path).write_text(text, encoding="utf-8")
    return sorted(Settings.edits)


# ----------------------------------------------------------- console blocks

# What a console command prints must not depend on what the shell that runs
# the tests has set: these variables are removed from its environment, so it
# runs as in a fresh shell of a clone. (torchrun prints its OMP_NUM_THREADS
# banner only when that variable is unset; a launcher's RANK or MASTER_PORT
# would change what a program does; COLUMNS the width argparse wraps at;
# pytest names the running test in PYTEST_CURRENT_TEST, which changes with
# every test.)
CONSOLE_UNSET = frozenset({"PYTEST_CURRENT_TEST",
    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "PYTHONPATH", "PYTHONWARNINGS", "PYTHONSTARTUP",
    "COLUMNS", "LINES", "LOGLEVEL", "TORCH_LOGS", "TORCH_CPP_LOG_LEVEL",
    "TORCH_DISTRIBUTED_DEBUG", "TORCH_SHOW_CPP_STACKTRACES", "RANK", "LOCAL_RANK", "GROUP_RANK",
    "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"})


#: ... and these groups: torchrun's, and what torch.compile sets for itself in
#: the process that ran the pages before (TORCHINDUCTOR_CACHE_DIR), which a
#: reader's fresh shell does not have.
CONSOLE_UNSET_PREFIXES = ("TORCHELASTIC_", "TORCHINDUCTOR_")


def console_environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items()
            if name not in CONSOLE_UNSET and not name.startswith(CONSOLE_UNSET_PREFIXES)}


#: What a console command's process has imported before it starts
#: (tests/forks.py): torch, and torch._dynamo, which takes as long again and
#: which creating an optimizer imports (Optimizer.__init__ calls
#: add_param_group, which torch._disable_dynamo wraps; the wrapper imports
#: torch._dynamo on its first call).
PRELOAD = ("torch", "torch._dynamo")
_zygotes: dict[tuple, Zygote | None] = {}


def console_zygote() -> Zygote | None:
    """This worker's zygote for console_environment() in the repository root,
    started at the first call (and again if it stopped, as after a command's
    timeout); None where importing PRELOAD printed anything. One waits per
    worker: a changed environment replaces it."""
    env = console_environment()
    key = tuple(sorted(env.items()))
    if key not in _zygotes or (_zygotes[key] and _zygotes[key].process.poll() is not None):
        for old in _zygotes.values():
            old and old.close()
        _zygotes.clear()
        _zygotes[key] = Zygote.start(PRELOAD, env, ROOT)
    return _zygotes[key]


def run_python(args: list[str], *, cwd: Path = ROOT, env: dict[str, str] | None = None,
               stderr_apart: bool = False, pipe_to: list[str] | None = None,
               timeout: float = 300) -> subprocess.CompletedProcess:
    """``python ARGS`` in ``cwd`` (the repository root by default), as a shell
    runs it: in ``env`` (console_environment() by default), stderr merged into
    stdout unless ``stderr_apart``, and piped into ``pipe_to`` if given (the
    status is then that command's).

    ``python -m MODULE ...`` and ``python -c CODE ...`` run as forks of
    console_zygote(), which saves each the import of torch; anything else, or
    any command where no zygote can be used, runs as a fresh process.
    """
    env = console_environment() if env is None else env
    if (args[:1] in (["-m"], ["-c"]) and len(args) > 1 and (zygote := console_zygote())
            and zygote.takes(env)):
        return zygote.run(args, cwd=cwd, env=env, stderr_apart=stderr_apart, pipe_to=pipe_to,
                          timeout=timeout)
    command = [sys.executable, *args]
    if pipe_to:
        command = f"{shlex.join(command)} | {shlex.join(pipe_to)}"
    return subprocess.run(command, shell=bool(pipe_to), cwd=cwd, env=env, timeout=timeout,
                          encoding="utf-8", errors="replace", stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE if stderr_apart else subprocess.STDOUT)


@cache
def run_command(args: tuple[str, ...]) -> list[str]:
    """Output of ``python ARGS`` (run_python), stdout and stderr merged.

    Cached: the twin page in the other language shows the same command, and
    running it twice in one session would only prove the same thing twice.
    """
    return run_python(list(args)).stdout.rstrip("\n").splitlines()


def evaluate_console(example: Example) -> None:
    """Run each ``$ python ...`` command from the repository root; compare output."""
    where = where_is(example)
    commands: list[tuple[str, list[str]]] = []
    rewritten: list[str] = []
    for line in example.parsed.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif commands:
            commands[-1][1].append(line)
        elif line.strip():
            raise AssertionError(f"{where}: output before the first '$ ' command")
    for command, expected in commands:
        argv = shlex.split(command)
        if argv[0] != "python":
            raise AssertionError(f"{where}: only 'python ...' commands are run, not {command!r};"
                                 " use a bash block for commands a reader types but the tests do not run")
        actual = run_command(tuple(argv[1:]))
        while expected and not expected[-1].strip():
            expected.pop()
        rewritten += [f"$ {command}", *(expected if release_marks(expected) else actual)]
        if (not Settings.update or release_marks(expected)) and not outputs_match(expected, actual):
            raise AssertionError(f"{where}: $ {command}\n{_diff(expected, actual)}")
    if Settings.update and rewritten != example.parsed.rstrip("\n").splitlines():
        Settings.edits.setdefault(example.path, []).append(
            (example.start, example.end, str(example.parsed), "\n".join(rewritten) + "\n"))


# ------------------------------------------------------- without the clone

#: The top-level names a reader without a clone cannot import.
REPOSITORY_PACKAGES = frozenset({"snippets", "tests", "hooks", "conftest"})


class NoRepository(importlib.abc.MetaPathFinder):
    """Import finder that answers as Python would on a reader's machine, where
    this repository's packages do not exist."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in REPOSITORY_PACKAGES:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


_folders: dict[str, tempfile.TemporaryDirectory] = {}


@contextlib.contextmanager
def without_repository(page: str):
    """Run in an empty folder of the page's own, with the repository's
    packages hidden from ``import`` (also those already loaded)."""
    folder = _folders.setdefault(page, tempfile.TemporaryDirectory(prefix="page-"))
    hidden = {name: module for name, module in sys.modules.items()
              if name.partition(".")[0] in REPOSITORY_PACKAGES - {"tests"}}
    # tests.harness is running this; its package stays loaded, but a page
    # cannot import from it (the finder refuses any name not yet loaded).
    for name in hidden:
        del sys.modules[name]
    finder = NoRepository()
    sys.meta_path.insert(0, finder)
    cwd = os.getcwd()
    os.chdir(folder.name)
    try:
        yield
    finally:
        os.chdir(cwd)
        sys.meta_path.remove(finder)
        for name in [n for n in sys.modules if n.partition(".")[0] in REPOSITORY_PACKAGES
                     and n not in hidden and n.partition(".")[0] != "tests"]:
            del sys.modules[name]
        sys.modules.update(hidden)


def outside(evaluate):
    def evaluate_outside(example: Example) -> None:
        with without_repository(str(example.path)):
            evaluate(example)
    return evaluate_outside


# ----------------------------------------------------------------- parsing

def refuse(info: str):
    def evaluate(example: Example) -> None:
        raise AssertionError(
            f"{where_is(example)}: the fence "
            f"'```{info}' is not run by the tests; write '```python' (no title or options)"
            " for code a reader runs")
    return evaluate


EVALUATORS = {"python": evaluate_python, "console": evaluate_console}


def parse_blocks(document: Document, evaluators: dict | None = None):
    """Every fenced block the harness runs, and every Python-looking one it refuses.

    A fence inside a longer one (```` around a Markdown example) is content of
    the outer block, as Markdown renders it; sybil's lexer reports both.
    """
    evaluators = EVALUATORS if evaluators is None else evaluators
    document.namespace.setdefault("__name__", "__main__")  # as in a reader's session
    lexer = FencedCodeBlockLexer(language=r".*", mapping={"language": "info", "source": "source"})
    regions = list(lexer(document))
    outermost = [r for r in regions
                 if not any(o is not r and o.start <= r.start and r.end <= o.end for o in regions)]
    for region in sorted(outermost, key=lambda r: r.start):
        info = region.lexemes["info"].strip()
        if info in evaluators:
            region.evaluator = evaluators[info]
        elif evaluators is not EVALUATORS:
            continue
        elif PYTHONISH.search(info):
            region.evaluator = refuse(info)
        else:
            continue
        region.parsed = region.lexemes["source"]
        yield region


def parse_page(path: Path) -> Document:
    return Document.parse(str(path), parse_blocks)


def parse_python_outside(document: Document):
    """The python blocks only, each run as a reader without a clone runs it."""
    return parse_blocks(document, {"python": outside(evaluate_python)})


DOCS = ROOT / "docs"
DEFAULT_LANGUAGE = "en"


def runs_python(path: Path) -> bool:
    """Whether the suite runs the python blocks of a page (--update-outputs runs all).

    Each page's code runs once, as a reader without a clone runs it: the
    English page. Its Chinese twin has the same code and the same ``#>``
    lines, which tests/test_parity.py compares as text. A notebook page runs
    once as its notebook, executed by the build in an empty folder
    (hooks/notebooks.py), whose outputs tests/test_notebooks.py compares.
    """
    language, *rest = path.relative_to(DOCS).parts
    return Settings.update or (language == DEFAULT_LANGUAGE
                               and (rest[0] != "notebooks" or Settings.notebook_pages))


def parse_for_suite(document: Document):
    """A page's blocks as the suite runs them: python blocks without the clone
    where runs_python says so; console blocks from the repository, each command
    once per worker (run_command); Python-looking fences it does not run, refused."""
    evaluators = {"console": evaluate_console}
    if runs_python(Path(document.path)):
        evaluators["python"] = outside(evaluate_python)
    for region in parse_blocks(document):
        if region.evaluator is evaluate_python:
            if "python" not in evaluators:
                continue
            region.evaluator = evaluators["python"]
        yield region


def close_figures(namespace: dict) -> None:
    """A page's figures end with the page, as a reader's session would end
    (pyplot warns once more than 20 are open in one process)."""
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


sybil = Sybil(parsers=[parse_for_suite], path=str(DOCS), patterns=["*.md"],
              teardown=close_figures)

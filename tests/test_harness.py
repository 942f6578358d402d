"""The harness fails when a page and its code disagree, and only then."""

import os
import shlex
import subprocess
import sys
import textwrap
import pytest
from sybil import Document

from tests import harness
from tests.harness import outputs_match, parse_page

FENCE = "```"


def run_page(tmp_path, markdown: str) -> None:
    """Evaluate every block of a page, in order, as pytest would."""
    page = tmp_path / "page.md"
    page.write_text(textwrap.dedent(markdown).replace("~~~", FENCE), encoding="utf-8")
    for example in parse_page(page):
        example.evaluate()


def test_matching_output_passes(tmp_path):
    run_page(tmp_path, """
        ~~~python
        x = 6 * 7
        print(x)
        #> 42
        for i in range(2):
            print(i)
        #> 0
        #> 1
        ~~~
    """)


def test_wrong_output_fails_and_shows_both(tmp_path):
    with pytest.raises(AssertionError, match=r"(?s)the page shows:.*#> 41.*the code prints:.*#> 42"):
        run_page(tmp_path, """
            ~~~python
            print(6 * 7)
            #> 41
            ~~~
        """)


def test_output_the_page_does_not_show_fails(tmp_path):
    with pytest.raises(AssertionError, match="the page shows"):
        run_page(tmp_path, """
            ~~~python
            print("surprise")
            ~~~
        """)


def test_blocks_of_a_page_share_one_namespace(tmp_path):
    run_page(tmp_path, """
        ~~~python
        value = 3
        ~~~
        ~~~python
        print(value)
        #> 3
        ~~~
    """)


@pytest.mark.parametrize("info", ["py", "python3", 'python title="a.py"', "python linenums=\"1\"",
                                  "pycon", "{.python}"])
def test_python_fence_that_is_not_run_fails(tmp_path, info):
    with pytest.raises(AssertionError, match="is not run by the tests"):
        run_page(tmp_path, f"""
            ~~~{info}
            print("never run")
            ~~~
        """)


def test_shown_error_ending_its_block_passes(tmp_path):
    run_page(tmp_path, """
        ~~~python
        print("before")
        #> before
        {}["missing"]
        #> KeyError: 'missing'
        ~~~
    """)


def test_error_the_page_does_not_show_fails(tmp_path):
    with pytest.raises(AssertionError, match="ZeroDivisionError"):
        run_page(tmp_path, """
            ~~~python
            1 / 0
            ~~~
        """)


def test_error_in_the_middle_of_a_block_fails(tmp_path):
    with pytest.raises(AssertionError, match="must end its block"):
        run_page(tmp_path, """
            ~~~python
            1 / 0
            #> ZeroDivisionError: division by zero
            print("a reader's copy never gets here")
            ~~~
        """)


def test_annotations_are_evaluated_as_in_a_readers_python(tmp_path):
    """The harness's own `from __future__ import annotations` must not reach a page:
    a reader's Python 3.11 evaluates annotations, so a name used only there must exist."""
    run_page(tmp_path, """
        ~~~python
        def step(fn: Callable) -> None:
            pass
        #> NameError: name 'Callable' is not defined
        ~~~
    """)


def test_warnings_are_output_too(tmp_path):
    run_page(tmp_path, """
        ~~~python
        import warnings
        warnings.warn("careful")
        #> UserWarning: careful
        ~~~
    """)


def test_includes_are_expanded_like_the_site_does(tmp_path):
    run_page(tmp_path, """
        ~~~python
        --8<-- "snippets/linear_regression.py:numpy_imports"
        --8<-- "snippets/linear_regression.py:data"
        ~~~
        ~~~python
        print(make_data()[0].shape)
        #> (80, 1)
        ~~~
    """)


def test_missing_include_fails(tmp_path):
    with pytest.raises(Exception, match="could not be found"):
        run_page(tmp_path, """
            ~~~python
            --8<-- "snippets/no_such_file.py"
            ~~~
        """)


def test_console_block_compares_the_command_output(tmp_path):
    run_page(tmp_path, """
        ~~~console
        $ python -c "print('hello')"
        hello
        ~~~
    """)
    with pytest.raises(AssertionError, match="the code prints"):
        run_page(tmp_path, """
            ~~~console
            $ python -c "print('hello')"
            goodbye
            ~~~
        """)


def test_console_command_runs_without_the_shells_thread_and_launcher_variables(
        tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("RANK", "3")
    run_page(tmp_path, """
        ~~~console
        $ python -c "import os; print(os.environ.get('OMP_NUM_THREADS'), os.environ.get('RANK'))"
        None None
        ~~~
    """)


def test_console_block_runs_only_python(tmp_path):
    with pytest.raises(AssertionError, match="only 'python ...' commands are run"):
        run_page(tmp_path, """
            ~~~console
            $ rm -rf build
            ~~~
        """)


@pytest.mark.parametrize("shown, printed, same", [
    ("a = 1.0235", "a = 1.0236", True),      # one unit in the last shown digit
    ("a = 1.0235", "a = 1.0237", False),
    ("tensor([0.5000])", "tensor([0.5001])", True),
    ("loss 2.5e-03", "loss 2.6e-03", True),
    ("loss 2.5e-03", "loss 2.7e-03", False),
    ("epoch 146", "epoch 147", False),        # whole numbers are exact
    ("a = 1.0235", "b = 1.0235", False),      # text around numbers is exact
])
def test_numbers_may_differ_by_one_unit_in_the_last_shown_digit(shown, printed, same):
    assert outputs_match([shown], [printed]) is same


# The other places that compare a page with what code printed use the same
# function, with the same tolerance: a console block, a notebook's kernel
# (tests/test_notebooks.py) and a notebook as the site renders it
# (tests/test_site.py).
@pytest.mark.parametrize("shown, same", [("a = 1.0235", True), ("a = 1.0232", False)])
def test_console_output_may_differ_in_the_last_digit_only(tmp_path, shown, same):
    page = f"""
        ~~~console
        $ python -c "print('a = 1.0234')"
        {shown}
        ~~~
    """
    if same:
        run_page(tmp_path, page)
    else:
        with pytest.raises(AssertionError, match="the page shows"):
            run_page(tmp_path, page)


@pytest.mark.parametrize("shown, same", [("a = 1.0235", True), ("a = 1.0232", False)])
def test_notebook_output_may_differ_in_the_last_digit_only(shown, same):
    from tests.test_notebooks import printed
    cell = {"outputs": [{"output_type": "stream", "name": "stdout", "text": "a = 1.0234\n"}]}
    assert outputs_match(["ok", shown], ["ok", *printed(cell)]) is same


@pytest.mark.parametrize("shown, same", [("a = 1.0235", True), ("a = 1.0232", False)])
def test_rendered_notebook_output_may_differ_in_the_last_digit_only(shown, same):
    from tests.pages import rendered_outputs
    html = ('<div class="jp-RenderedText jp-OutputArea-output" data-mime-type="text/plain" '
            'tabindex="0">\n<pre>ok &lt;1&gt;\na = 1.0234\n</pre>\n</div>')
    assert outputs_match(["ok <1>", shown], rendered_outputs(html)) is same


@pytest.fixture
def update_mode(monkeypatch):
    """pytest --update-outputs, with no edits collected yet."""
    monkeypatch.setattr(harness.Settings, "update", True)
    monkeypatch.setattr(harness.Settings, "edits", {})


def test_update_mode_rewrites_outputs_from_the_code(tmp_path, update_mode):
    run_page(tmp_path, """
        ~~~python
        print(6 * 7)
        #> typed by hand
        ~~~
    """)
    harness.write_updates()
    assert "print(6 * 7)\n#> 42\n" in (tmp_path / "page.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("page, runs", [("en/autograd.md", True), ("zh/autograd.md", False),
                                        ("en/notebooks/crop-yield.md", False)])
def test_each_pages_code_runs_once_as_the_english_page(page, runs):
    """The Chinese twin's code and outputs are the English page's (test_parity
    compares them as text); a notebook page runs as its notebook."""
    assert harness.runs_python(harness.DOCS / page) is runs


def test_update_mode_runs_every_pages_code(update_mode):
    for page in ("zh/autograd.md", "en/notebooks/crop-yield.md"):
        assert harness.runs_python(harness.DOCS / page)


def test_update_mode_rewrites_a_block_indented_in_a_solution(tmp_path, update_mode):
    run_page(tmp_path, """
        ??? success "Solution"

            ~~~python
            total = 6 * 7

            print(total)
            ~~~
    """)
    harness.write_updates()
    assert "    total = 6 * 7\n\n    print(total)\n    #> 42\n" in (
        tmp_path / "page.md").read_text(encoding="utf-8")


def test_update_mode_keeps_a_one_line_solution_indented(tmp_path, update_mode):
    """Its code also occurs, dedented, inside its own indented line: the block's
    place on the page decides, not a search for the text."""
    run_page(tmp_path, """
        ??? success "Solution"

            ~~~python
            print(6 * 7)
            ~~~
    """)
    harness.write_updates()
    assert "    print(6 * 7)\n    #> 42\n" in (tmp_path / "page.md").read_text(encoding="utf-8")


def test_fences_inside_a_longer_fence_are_its_content(tmp_path):
    run_page(tmp_path, """
        ````markdown
        ~~~python
        raise SystemExit("an example inside an example is not run")
        ~~~
        ````
    """)


def run_page_outside(tmp_path, markdown: str) -> None:
    """Evaluate a page's python blocks as the run without a clone does."""
    page = tmp_path / "page.md"
    page.write_text(textwrap.dedent(markdown).replace("~~~", FENCE), encoding="utf-8")
    for example in Document.parse(str(page), harness.parse_python_outside):
        example.evaluate()


def test_without_the_clone_a_page_that_imports_snippets_fails(tmp_path):
    with pytest.raises(AssertionError, match="ModuleNotFoundError: No module named 'snippets'"):
        run_page_outside(tmp_path, """
            ~~~python
            from snippets.device import get_device
            ~~~
        """)


def test_without_the_clone_a_page_runs_in_an_empty_folder_of_its_own(tmp_path):
    run_page_outside(tmp_path, """
        ~~~python
        import os
        print(os.listdir("."), os.path.realpath(".") != os.path.realpath(ROOT))
        #> [] True
        import snippets
        #> ModuleNotFoundError: No module named 'snippets'
        ~~~
    """.replace("ROOT", repr(str(harness.ROOT))))


def test_after_the_run_without_the_clone_the_repository_is_back(tmp_path):
    import snippets.device
    before = os.getcwd()
    run_page_outside(tmp_path, """
        ~~~python
        x = 1
        ~~~
    """)
    assert sys.modules["snippets.device"] is snippets.device
    assert os.getcwd() == before
    assert not any(isinstance(f, harness.NoRepository) for f in sys.meta_path)


# Lines that some torch releases print differently are declared on the page
# with a release mark (README, "Supported releases").
MARKED = ["first", "[torch>=2.11] new message", "[torch<2.11] old message", "middle",
          "[torch<2.11] rank 0 says hello", "[torch<2.11] rank 1 says hello", "last"]


@pytest.mark.parametrize("release, printed", [
    ("2.13.0", ["first", "new message", "middle", "last"]),
    ("2.10.0", ["first", "old message", "middle", "rank 0 says hello", "rank 1 says hello",
                "last"]),
    # adjacent lines with the same mark: several processes print them, in any order
    ("2.10.0", ["first", "old message", "middle", "rank 1 says hello", "rank 0 says hello",
                "last"]),
    # ... even interleaved character by character, as two processes can write them
    ("2.10.0", ["first", "old message", "middle", "rank 1rank  says hello", "0 says hello",
                "last"]),
])
def test_a_release_is_held_to_the_lines_marked_for_it(monkeypatch, release, printed):
    monkeypatch.setattr(harness, "torch_release", lambda: release)
    assert outputs_match(MARKED, printed)


@pytest.mark.parametrize("release, printed", [
    ("2.13.0", ["first", "old message", "middle", "last"]),   # another release's line
    ("2.10.0", ["first", "old message", "middle", "last"]),   # a declared line missing
    ("2.10.0", ["first", "rank 0 says hello", "middle", "old message", "rank 1 says hello",
                "last"]),
    ("2.10.0", ["first", "old message", "middle", "rank 1rank  says hello", "0 says hellO",
                "last"]),                                 # interleaved, but not the same text
])
def test_a_release_that_prints_other_lines_fails(monkeypatch, release, printed):
    monkeypatch.setattr(harness, "torch_release", lambda: release)
    assert not outputs_match(MARKED, printed)


def test_every_release_mark_on_the_pages_names_a_supported_release():
    from packaging.specifiers import SpecifierSet

    from tests.pages import LANGUAGES, pages, shown_outputs
    from tests.versions import SUPPORTED, pinned_release
    releases = [pinned_release(), *SUPPORTED]
    marks = {mark for lang in LANGUAGES for page in pages(lang)
             for mark in harness.release_marks(
                 shown_outputs(lang, page)
                 + (harness.DOCS / lang / page).read_text(encoding="utf-8").splitlines())}
    assert marks, "no page declares a difference between releases"
    for mark in marks:
        matched = [r for r in releases if SpecifierSet(mark).contains(r)]
        assert matched and len(matched) < len(releases), (mark, matched)


def test_update_mode_keeps_the_lines_of_other_releases(tmp_path, update_mode, monkeypatch):
    monkeypatch.setattr(harness, "torch_release", lambda: "2.13.0")
    run_page(tmp_path, """
        ~~~python
        print(6 * 7)
        #>[torch>=2.11] 42
        #>[torch<2.11] 41
        ~~~
    """)
    harness.write_updates()
    assert "#>[torch<2.11] 41\n" in (tmp_path / "page.md").read_text(encoding="utf-8")


# ------------------------------------------------- console commands as forks

PROBE = """
import atexit, os, sys, warnings
print("argv", sys.argv[1:], os.path.basename(sys.argv[0]), "path0", sys.path[0] == os.getcwd())
print("globals", sorted(set(globals()) - {"atexit", "os", "sys", "warnings"}), __name__)
print("environment", os.environ.get("PROBE"), "stdin", sys.stdin.read())
atexit.register(print, "at exit")
warnings.warn("a warning")
print("to stderr", file=sys.stderr)
if "--fail" in sys.argv:
    raise ValueError("no good")
sys.exit(int(sys.argv[-1]))
"""


@pytest.mark.parametrize("args", [["3"], ["0"], ["--fail"]], ids=["status 3", "status 0", "raises"])
def test_a_forked_command_prints_and_ends_as_a_fresh_python(tmp_path, args):
    """A command run by a fork of the zygote (tests/forks.py) gives the status
    and merged output of a fresh ``python -m``; a traceback differs only in the
    zygote's frames above the module's."""
    from tests.forks import Zygote

    (tmp_path / "probe.py").write_text(PROBE, encoding="utf-8")
    env = {**os.environ, "PROBE": "set"}
    zygote = Zygote.start(("json",), env, tmp_path)
    try:
        done = zygote.run(["-m", "probe", *args], timeout=60)
        piped = zygote.run(["-m", "probe", *args], env={**env, "PROBE": "changed"},
                           stderr_apart=True, pipe_to=["tail", "-2"], timeout=60)
    finally:
        zygote.close()
    status, output = done.returncode, done.stdout
    command = [sys.executable, "-m", "probe", *args]
    fresh = subprocess.run(command, cwd=tmp_path, env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    in_shell = subprocess.run(f"{shlex.join(command)} | tail -2", shell=True, cwd=tmp_path,
                              env={**env, "PROBE": "changed"}, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True)
    assert status == fresh.returncode == (1 if args == ["--fail"] else int(args[0]))
    # a pipeline, in a changed environment: the status is tail's; python's stderr apart
    assert (piped.returncode, piped.stdout) == (in_shell.returncode, in_shell.stdout)
    assert piped.returncode == 0 and piped.stdout == "environment changed stdin \nat exit\n"
    assert [line for line in piped.stderr.splitlines() if 'File "<string>"' not in line] == \
        in_shell.stderr.splitlines() and "to stderr" in in_shell.stderr
    assert ("ValueError: no good" in output) == (args == ["--fail"])
    assert "at exit" in output and "environment set stdin" in output
    # the zygote's own frames (its program is python -c: no source lines)
    assert [line for line in output.splitlines() if 'File "<string>"' not in line] == \
        fresh.stdout.splitlines()


def test_a_forked_python_c_sees_what_a_fresh_one_does(tmp_path):
    from tests.forks import Zygote

    code = "import sys; print(sys.argv, repr(sys.path[0]), sorted(globals()), __name__)"
    zygote = Zygote.start(("json",), dict(os.environ), tmp_path)
    try:
        done = zygote.run(["-c", code, "x"], timeout=60)
    finally:
        zygote.close()
    fresh = subprocess.run([sys.executable, "-c", code, "x"], cwd=tmp_path, capture_output=True,
                           text=True)
    assert (done.returncode, done.stdout) == (fresh.returncode, fresh.stdout)
    assert fresh.stdout.startswith("['-c', 'x'] ''")


def test_a_change_to_what_python_reads_as_it_starts_runs_a_fresh_python(tmp_path):
    """PYTHONPATH, say, is read before any fork could take it: run_python runs
    such a command as a fresh process, which sees the change."""
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "placed.py").write_text("print('found')\n", encoding="utf-8")
    env = {**harness.console_environment(), "PYTHONPATH": str(tmp_path / "elsewhere")}
    zygote = harness.console_zygote()
    assert zygote is None or not zygote.takes(env)
    assert harness.run_python(["-m", "placed"], cwd=tmp_path, env=env).stdout == "found\n"


def test_a_preload_that_prints_is_refused(tmp_path):
    """Whatever importing a preloaded module prints would go missing from every
    command's output, so such a zygote is not used."""
    from tests.forks import Zygote

    (tmp_path / "loud.py").write_text("print('imported')\n", encoding="utf-8")
    assert Zygote.start(("loud",), dict(os.environ), tmp_path) is None

"""Python commands run as forks of a Python that has already imported torch.

A console block's ``$ python -m MODULE ARGS`` runs as a reader's shell runs
it: in a process of its own, from the repository root. So do the tests that
run a program as a reader would (tests/harness.run_python). Most of such a
process's time here is ``import torch`` (about 2 s, more than most commands'
own work). So a worker keeps one Python, the zygote, started in the
commands' environment and folder, that imports the preloaded modules and
then waits. Each command is a fork of it that runs MODULE as ``python -m``
does (runpy's ``_run_module_as_main``), or CODE as ``python -c`` does, in a
``__main__`` namespace reset to a fresh one, and ends as that Python ends:
its exit status, an uncaught exception's traceback, the atexit handlers, the
streams flushed. Its stdin is empty; its stdout and stderr go to files, or
its stdout into a pipe to another command, as a shell's ``|``.

What such a command finds that a fresh Python would not: the preloaded
modules (and the few the zygote itself uses) are already in ``sys.modules``,
imported in the zygote's environment and folder, with the warning filters
they add (and without what they set in ``os.environ`` as they import, such
as torch._dynamo's TORCHINDUCTOR_CACHE_DIR: a fork's environment is the
command's); the random states, the hash seed and ``sys.orig_argv`` are the
zygote's, the same in every fork; a traceback starts with the zygote's
frames (and on Python 3.13, which shows the source of ``-c`` code, the
zygote's lines stand in for a ``-c`` command's). A command run in a changed
environment sees the change from its first line, but the preloaded modules
read theirs as the zygote imported them, and Python reads its own
(``PYTHON*``, ``LC_*``, ``LANG``) as it starts: ``Zygote.takes`` refuses a
change to those. A preload that prints anything (a warning, say) would hide
that output from every command, so such a zygote is refused
(``Zygote.start`` returns None). Where a zygote is refused, the caller runs
a fresh process.

Python's multiprocessing forkserver forks functions, not programs that run
as ``__main__`` and report their exit status; hence this file.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

#: The zygote's own program (python -c). Its first line keeps the globals of
#: a fresh ``python -c``, which each fork's ``__main__`` is reset to. Requests
#: arrive one JSON line at a time on stdin, read with os.read so that no
#: buffered stdin is inherited; the status of each fork goes back as a line.
PROGRAM = r"""
FRESH = dict(globals())
import ctypes, importlib, json, os, sys, warnings

def end_with_parent():
    # Linux's PR_SET_PDEATHSIG: killed when the process that started this one
    # ends, so that neither the zygote nor a hung fork outlives a killed test run.
    ctypes.CDLL(None).prctl(1, 9)

end_with_parent()

def preload(names):
    # What importing the preloaded modules prints, on either stream.
    spill = open(sys.argv[1], "w+b")
    saved = os.dup(1), os.dup(2)
    sys.stdout.flush(), sys.stderr.flush()
    os.dup2(spill.fileno(), 1), os.dup2(spill.fileno(), 2)
    try:
        for name in names:
            importlib.import_module(name)
    finally:
        sys.stdout.flush(), sys.stderr.flush()
        os.dup2(saved[0], 1), os.dup2(saved[1], 2)
        os.close(saved[0]), os.close(saved[1])
    spill.seek(0)
    return spill.read().decode(errors="replace")

def lines():
    pending = b""
    while True:
        chunk = os.read(0, 65536)
        if not chunk:
            return
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            yield json.loads(line)

def reply(**message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()

def serve():
    printed = preload(sys.argv[2:])
    import gc
    gc.freeze()  # as gc's documentation advises before fork: no copy of every object
    reply(printed=printed)
    if printed:
        return None
    for request in lines():
        follower = None
        if request["pipe_to"]:  # COMMAND | PIPE_TO, as a shell runs it
            import subprocess
            read, request["pipe"] = os.pipe()
            with open(request["stdout"], "ab") as out, open(request["stderr"], "ab") as err:
                follower = subprocess.Popen(request["pipe_to"], stdin=read, stdout=out,
                                            stderr=err, cwd=request["cwd"], env=request["env"])
            os.close(read)
        sys.stdout.flush(), sys.stderr.flush()
        with warnings.catch_warnings():  # os.fork's warning about threads is the zygote's
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:
            return request
        if follower:
            os.close(request["pipe"])  # the fork's copy is the only one left
        _, status = os.waitpid(pid, 0)
        status = os.waitstatus_to_exitcode(status)
        if follower:
            status = follower.wait()  # a pipeline's status is its last command's
        reply(status=status)
    return None

def become(request):
    end_with_parent()
    if follower_pipe := request.get("pipe"):
        out = follower_pipe
    else:
        out = os.open(request["stdout"], os.O_WRONLY | os.O_APPEND)
    err = os.open(request["stderr"], os.O_WRONLY | os.O_APPEND)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0), os.dup2(out, 1), os.dup2(err, 2)
    os.close(null), os.close(out), os.close(err)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    option, name_or_code, *arguments = request["argv"]
    sys.argv = [option, *arguments]
    # python -c puts the folder it runs in first, by the name "", and -m by its path
    sys.path[0] = "" if option == "-c" else os.getcwd()
    import runpy
    fresh, main = dict(FRESH), sys.modules["__main__"].__dict__  # this program's globals
    main.clear()  # from here on, only this function's own names are left
    main.update(fresh)
    if option == "-c":
        exec(compile(name_or_code, "<string>", "exec"), main)
    else:
        runpy._run_module_as_main(name_or_code)

_request = serve()
if _request is not None:
    become(_request)
"""


class Zygote:
    """One waiting Python per environment and folder; ``run`` forks it per command."""

    def __init__(self, process: subprocess.Popen, env: dict[str, str], cwd: Path):
        self.process, self.env, self.cwd = process, env, cwd

    @classmethod
    def start(cls, preload: tuple[str, ...], env: dict[str, str], cwd: Path,
              timeout: float = 300) -> Zygote | None:
        """A zygote with ``preload`` imported, or None if importing them printed anything."""
        with tempfile.NamedTemporaryFile(prefix="zygote-preload-") as spill:
            process = subprocess.Popen(
                [sys.executable, "-c", PROGRAM, spill.name, *preload], cwd=cwd, env=env,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True)
            zygote = cls(process, env, cwd)
            if zygote._reply(timeout)["printed"]:
                zygote.close()
                return None
        atexit.register(zygote.close)
        return zygote

    def _reply(self, timeout: float) -> dict:
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else b""
        if not line:
            self.close()
            raise AssertionError("the zygote stopped or took longer than "
                                 f"{timeout:g} s: {self.process.args[3:]}")
        return json.loads(line)

    #: What Python reads from the environment as it starts (and the C library's locale).
    STARTUP = ("PYTHON", "LC_", "LANG")

    def takes(self, env: dict[str, str]) -> bool:
        """Whether a fork can run in ``env``: it changes none of STARTUP's variables."""
        changed = {name for name in env.keys() | self.env.keys()
                   if env.get(name) != self.env.get(name)}
        return not any(name.startswith(self.STARTUP) for name in changed)

    def run(self, argv: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
            stderr_apart: bool = False, pipe_to: list[str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
        """``python -m MODULE ARGS`` or ``python -c CODE ARGS`` (argv: ["-m",
        MODULE, *ARGS] or ["-c", CODE, *ARGS]) in ``cwd`` and
        ``env`` (by default the zygote's), with stderr merged into stdout unless
        ``stderr_apart``; with ``pipe_to``, its stdout is piped into that command,
        as a shell's ``|`` does, and the status is that command's.

        A variable that ``env`` changes takes effect as the command starts: one that
        the preloaded modules read as they are imported keeps the zygote's value
        for them. Text is decoded as UTF-8."""
        if argv[:1] not in (["-m"], ["-c"]) or len(argv) < 2:
            raise ValueError(f"a zygote runs 'python -m MODULE ...' or 'python -c CODE ...', "
                             f"not {argv}")
        if env is not None and not self.takes(env):
            raise ValueError("a fork cannot take a change to what Python reads as it starts")
        with tempfile.TemporaryDirectory(prefix="zygote-") as folder:
            out, err = Path(folder, "stdout"), Path(folder, "stderr" if stderr_apart else "stdout")
            out.touch(), err.touch()
            request = {"argv": argv, "cwd": str(cwd or self.cwd), "env": self.env if env is None else env,
                       "stdout": str(out), "stderr": str(err), "pipe_to": pipe_to}
            self.process.stdin.write((json.dumps(request) + "\n").encode())
            self.process.stdin.flush()
            status = self._reply(timeout)["status"]
            read = lambda path: path.read_text(encoding="utf-8", errors="replace")
            return subprocess.CompletedProcess(argv, status, read(out),
                                               read(err) if stderr_apart else None)

    def close(self) -> None:
        """Stop the zygote and any fork or process it left running."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            stream.close()

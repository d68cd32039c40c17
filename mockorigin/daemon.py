"""``serve --daemon``: detach, and let the parent exit 0 only once the server listens.

The parent forks and waits on a pipe. The daemon (a grandchild, in its own
session, stdio on /dev/null or the log file) writes ``ok`` down the pipe once
every listener is up and the pidfile is written, or the reason it could not
start; the parent exits with that. ``stop`` sends SIGTERM to the PID in the
pidfile and waits for the process to go.
"""

from __future__ import annotations

import errno
import os
import select
import signal
import sys
import time

START_TIMEOUT = 30.0


class DaemonError(Exception):
    pass


def running_pid(pidfile: str) -> int | None:
    """The PID in ``pidfile`` if that process is alive; a stale pidfile is removed."""
    try:
        with open(pidfile, encoding="ascii") as handle:
            text = handle.read().strip()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise DaemonError(f"cannot read {pidfile}: {error.strerror}") from None
    if not text.isdigit():
        raise DaemonError(f"{pidfile} does not hold a PID")
    pid = int(text)
    if _alive(pid):
        return pid
    os.unlink(pidfile)  # stale: its process is gone (killed, or the machine restarted)
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie answers signal 0 but has exited (nobody has reaped it yet)
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def detach(log_file: str | None) -> int:
    """Fork. In the parent: wait for the daemon's word and exit. In the daemon: return the pipe to report on."""
    read_end, write_end = os.pipe()
    if os.fork() > 0:
        os.close(write_end)
        sys.exit(_wait_for_word(read_end))
    os.close(read_end)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)  # the session leader goes; the daemon can never regain a terminal
    os.chdir("/")
    _redirect_stdio(log_file)
    return write_end


def _wait_for_word(read_end: int) -> int:
    deadline = time.monotonic() + START_TIMEOUT
    message = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([read_end], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        chunk = os.read(read_end, 4096)
        if not chunk:
            break
        message += chunk
    os.close(read_end)
    text = message.decode("utf-8", "replace").strip()
    if text == "ok":
        return 0
    print(f"mockorigin: {text or 'the daemon exited without saying why'}", file=sys.stderr)
    return 1


def _redirect_stdio(log_file: str | None) -> None:
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    target = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644) if log_file else null
    os.dup2(target, 1)
    os.dup2(target, 2)


def report(write_end: int, message: str) -> None:
    """Tell the waiting parent how the start went; only once."""
    try:
        os.write(write_end, message.encode("utf-8") + b"\n")
        os.close(write_end)
    except OSError as error:
        if error.errno not in (errno.EBADF, errno.EPIPE):
            raise


def write_pidfile(pidfile: str) -> None:
    temporary = f"{pidfile}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="ascii") as handle:
        handle.write(f"{os.getpid()}\n")
    os.replace(temporary, pidfile)


def remove_pidfile(pidfile: str) -> None:
    try:
        with open(pidfile, encoding="ascii") as handle:
            if handle.read().strip() != str(os.getpid()):
                return  # not ours any more
        os.unlink(pidfile)
    except OSError:
        pass


def stop(pidfile: str, timeout: float) -> int:
    """SIGTERM the daemon named in ``pidfile`` and wait for it to exit."""
    try:
        pid = running_pid(pidfile)
    except DaemonError as error:
        print(f"mockorigin: {error}", file=sys.stderr)
        return 1
    if pid is None:
        print(f"mockorigin: not running (no live process in {pidfile})", file=sys.stderr)
        return 1
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return 0
        time.sleep(0.02)
    print(f"mockorigin: PID {pid} did not exit within {timeout:g} s", file=sys.stderr)
    return 1

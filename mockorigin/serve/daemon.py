"""``serve --daemon``: detach, and let the parent exit 0 only once the server listens.

The parent forks and waits on a pipe. The daemon (a grandchild, in its own
session, stdio on /dev/null or the log file) writes ``ok`` down the pipe once
every listener is up and the pidfile is written, or the reason it could not
start; the parent exits with that. ``stop`` sends SIGTERM to the PID in the
pidfile and waits for the process to go.

A PID alone does not name a process for long: once the daemon is gone the kernel
gives its number to the next program. So the pidfile's first line is the PID (what
``kill``, ``pkill -F`` and systemd read) and its second line records the daemon's
start time (field 22 of ``/proc/PID/stat``, in clock ticks since boot) and the boot
id: a process is taken for the daemon only if both still match, which a reused PID
cannot do. A pidfile without that line (hand-written, or from an older version) is
trusted only if the process's command line runs mockorigin. ``stop`` refuses to
signal anything else, and ``serve --daemon`` treats such a pidfile as stale. The
signal goes through a pidfd opened before the check, so the process checked is the
process signalled.
"""

from __future__ import annotations

import errno
import os
import select
import signal
import sys
import time
from dataclasses import dataclass

START_TIMEOUT = 30.0


class DaemonError(Exception):
    pass


@dataclass(frozen=True)
class PidRecord:
    """What a pidfile says: the PID, and when given, the start time and boot of its process."""

    pid: int
    start: str | None = None
    boot: str | None = None


def read_pidfile(pidfile: str) -> PidRecord | None:
    """None if there is no pidfile; ``DaemonError`` if it does not hold a PID."""
    try:
        with open(pidfile, encoding="ascii", errors="replace") as handle:
            lines = handle.read(4096).splitlines()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise DaemonError(f"cannot read {pidfile}: {error.strerror}") from None
    first = lines[0].strip() if lines else ""
    if not (first.isascii() and first.isdigit() and 0 < int(first) < 2**31):
        raise DaemonError(f"{pidfile} does not hold a PID")
    fields = dict(part.partition("=")[::2] for part in (lines[1].split() if len(lines) > 1 else ()))
    return PidRecord(int(first), fields.get("start") or None, fields.get("boot") or None)


def running_pid(pidfile: str) -> int | None:
    """The PID in ``pidfile`` if it is our daemon and alive. A stale pidfile is removed: its
    process is gone (killed, or the machine restarted), or its PID now names another process."""
    record = read_pidfile(pidfile)
    if record is None:
        return None
    if _alive(record.pid) and not_ours(record) is None:
        return record.pid
    try:
        os.unlink(pidfile)
    except FileNotFoundError:
        pass
    return None


def not_ours(record: PidRecord) -> str | None:
    """None if the live process ``record.pid`` is the daemon that wrote the record; else why not."""
    if record.start is not None:
        start, boot = _start_time(record.pid), _boot_id()
        if start is None:
            return f"cannot read /proc/{record.pid}/stat to check that it is the daemon"
        if record.boot is not None and boot is not None and record.boot != boot:
            return "the pidfile was written before the machine restarted"
        if start != record.start:
            return "the process started at another time than the daemon that wrote the pidfile: its PID was reused"
        return None
    arguments = _command_line(record.pid)
    if arguments is None:
        return f"cannot read /proc/{record.pid}/cmdline to check that it is mockorigin"
    if not any(os.path.basename(a) == "mockorigin" or a.endswith("mockorigin/__main__.py") for a in arguments):
        shown = " ".join(arguments)[:120] or "(none: a kernel thread or a zombie)"
        return f"it does not run mockorigin (its command line: {shown})"
    return None


def _start_time(pid: int | str) -> str | None:
    """Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()  # the name, in parentheses, may hold spaces
        return fields[19]  # field 22 counts from 1 and includes the PID and the name
    except (OSError, IndexError):
        return None


def _boot_id() -> str | None:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as handle:
            return handle.read().strip() or None
    except OSError:
        return None


def _command_line(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            data = handle.read(65536)
    except OSError:
        return None
    return [part.decode("utf-8", "replace") for part in data.split(b"\0") if part]


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
    """``PID`` on the first line; the start time and boot id that make it this process on the second."""
    pid = os.getpid()
    start, boot = _start_time("self"), _boot_id()
    identity = f"mockorigin start={start}" + (f" boot={boot}" if boot else "") + "\n" if start else ""
    temporary = f"{pidfile}.{pid}.tmp"
    with open(temporary, "w", encoding="ascii") as handle:
        handle.write(f"{pid}\n{identity}")
    os.replace(temporary, pidfile)


def remove_pidfile(pidfile: str) -> None:
    try:
        record = read_pidfile(pidfile)
        if record is None or record.pid != os.getpid():
            return  # not ours any more
        os.unlink(pidfile)
    except (OSError, DaemonError):
        pass


def stop(pidfile: str, timeout: float) -> int:
    """SIGTERM the daemon named in ``pidfile`` and wait for it to exit; refuse any other process."""
    try:
        record = read_pidfile(pidfile)
        if record is not None and _alive(record.pid):
            handle = _pidfd(record.pid)  # pins the process: were the PID reused from here on, the new one is not signalled
            try:
                return _stop(pidfile, record, handle, timeout)
            finally:
                if handle is not None:
                    os.close(handle)
        if record is not None:
            running_pid(pidfile)  # removes the stale pidfile
    except DaemonError as error:
        print(f"mockorigin: {error}", file=sys.stderr)
        return 1
    except ProcessLookupError:  # it exited while we looked
        pass
    print(f"mockorigin: not running (no live process in {pidfile})", file=sys.stderr)
    return 1


def _stop(pidfile: str, record: PidRecord, handle: int | None, timeout: float) -> int:
    reason = not_ours(record)
    if reason is not None:
        print(f"mockorigin: not signalling PID {record.pid} from {pidfile}: {reason}", file=sys.stderr)
        return 1
    _terminate(record.pid, handle)
    if _wait_gone(record.pid, handle, timeout):
        return 0
    print(f"mockorigin: PID {record.pid} did not exit within {timeout:g} s", file=sys.stderr)
    return 1


def _pidfd(pid: int) -> int | None:
    """A pidfd for ``pid`` (``ProcessLookupError`` if it is gone); None where pidfds are missing."""
    try:
        return os.pidfd_open(pid)
    except ProcessLookupError:
        raise
    except (AttributeError, OSError):  # not Linux 5.3+, or not allowed: fall back to the PID
        return None


def _terminate(pid: int, handle) -> None:
    if handle is not None:
        signal.pidfd_send_signal(handle, signal.SIGTERM)
    else:
        os.kill(pid, signal.SIGTERM)


def _wait_gone(pid: int, handle, timeout: float) -> bool:
    """Whether the process exited within ``timeout`` (a pidfd is readable once it has)."""
    if handle is not None:
        poller = select.poll()
        poller.register(handle, select.POLLIN)
        return bool(poller.poll(max(0.0, timeout) * 1000))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.02)
    return False

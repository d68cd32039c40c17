"""Real proxies in front of the origin, for the tests and the matrix: each writes its own
config into a folder, runs in the foreground on a loopback port, and is stopped by PID.

Configs follow the ones the project's hand-measured ground truth used: every upstream
timeout set to ``timeout`` seconds; "nginx" is Debian's defaults plus those timeouts (HTTP/1.0 upstream, buffering
on), "nginx-ws" the usual WebSocket/streaming recipe, "haproxy-nodelay" adds
``option http-no-delay``. Never a system service: nothing here touches /etc.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


NGINX = """
daemon off;
master_process on;
worker_processes 1;
user root;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://127.0.0.1:{origin};
      proxy_connect_timeout {timeout}s;
      proxy_read_timeout {timeout}s;
      proxy_send_timeout {timeout}s;
{extra}
    }}
  }}
}}
"""
NGINX_WS = """      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_buffering off;
      proxy_request_buffering off;"""

HAPROXY = """
global
  maxconn 256
defaults
  mode http
  timeout connect {timeout}s
  timeout client 60s
  timeout server {timeout}s
  timeout tunnel 60s
{extra}
frontend check
  bind 127.0.0.1:{port}
  default_backend origin
backend origin
  server origin 127.0.0.1:{origin}
"""

SQUID = """
http_port 127.0.0.1:{port} accel defaultsite=127.0.0.1 no-vhost
cache_peer 127.0.0.1 parent {origin} 0 no-query originserver name=origin
cache_peer_access origin allow all
http_access allow all
cache deny all
cache_mem 8 MB
connect_timeout {timeout} seconds
read_timeout {timeout} seconds
request_timeout 60 seconds
pid_filename {dir}/squid.pid
cache_log {dir}/cache.log
access_log none
coredump_dir {dir}
cache_effective_user proxy
http_upgrade_request_protocols websocket allow all
shutdown_lifetime 0 seconds
"""

APACHE = """
ServerRoot /usr/lib/apache2
ServerName 127.0.0.1
LoadModule mpm_event_module modules/mod_mpm_event.so
LoadModule authz_core_module modules/mod_authz_core.so
LoadModule proxy_module modules/mod_proxy.so
LoadModule proxy_http_module modules/mod_proxy_http.so
Listen 127.0.0.1:{port}
PidFile {dir}/apache2.pid
ErrorLog {dir}/error.log
Mutex file:{dir} default
DefaultRuntimeDir {dir}
User www-data
Group www-data
ProxyPass / http://127.0.0.1:{origin}/ upgrade=websocket timeout={timeout}
ProxyTimeout {timeout}
"""

VARNISH = """
vcl 4.1;
backend default {{
  .host = "127.0.0.1";
  .port = "{origin}";
  .connect_timeout = {timeout}s;
  .first_byte_timeout = {timeout}s;
  .between_bytes_timeout = {timeout}s;
}}
sub vcl_recv {{
  if (req.http.upgrade ~ "(?i)websocket") {{ return (pipe); }}
  return (pass);
}}
sub vcl_pipe {{
  if (req.http.upgrade) {{
    set bereq.http.upgrade = req.http.upgrade;
    set bereq.http.connection = req.http.connection;
  }}
}}
"""


@dataclass(frozen=True)
class ProxyKind:
    name: str
    program: str  # what must be installed
    description: str


KINDS = {
    "nginx": ProxyKind("nginx", "nginx", "nginx, Debian defaults + upstream timeouts (HTTP/1.0 upstream, buffering on)"),
    "nginx-ws": ProxyKind("nginx-ws", "nginx", "nginx with the WebSocket/streaming recipe (proxy_http_version 1.1, Upgrade passed, buffering off)"),
    "haproxy": ProxyKind("haproxy", "haproxy", "HAProxy, mode http"),
    "haproxy-nodelay": ProxyKind("haproxy-nodelay", "haproxy", "HAProxy, mode http + option http-no-delay"),
    "squid": ProxyKind("squid", "squid", "Squid as an accelerator (http_port accel), WebSocket upgrades allowed"),
    "apache2": ProxyKind("apache2", "apache2", "Apache httpd mod_proxy_http, upgrade=websocket"),
    "varnish": ProxyKind("varnish", "varnishd", "Varnish, pass for HTTP, pipe for upgrades"),
}


class ProxyError(Exception):
    """The proxy did not start; the message carries its log."""


class Proxy:
    """One proxy process, listening on ``port`` and forwarding to ``origin_port``."""

    def __init__(self, kind: str, origin_port: int, folder: Path, timeout: float = 3.0):
        self.kind = KINDS[kind]
        self.origin_port = origin_port
        self.folder = Path(folder)
        self.timeout = timeout
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log_path = self.folder / "proxy.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def command(self) -> list[str]:
        folder, values = self.folder, {"dir": self.folder, "port": self.port, "origin": self.origin_port, "timeout": _seconds(self.timeout)}
        name = self.kind.name
        if name.startswith("nginx"):
            for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
                (folder / sub).mkdir(exist_ok=True)
            _write(folder / "nginx.conf", NGINX.format(extra=NGINX_WS if name == "nginx-ws" else "", **values))
            return ["nginx", "-p", str(folder), "-c", str(folder / "nginx.conf")]
        if name.startswith("haproxy"):
            _write(folder / "haproxy.cfg", HAPROXY.format(extra="  option http-no-delay" if name == "haproxy-nodelay" else "", **values))
            return ["haproxy", "-db", "-f", str(folder / "haproxy.cfg")]
        if name == "squid":
            if _has_user("proxy"):  # Squid drops to this user and writes its files here
                shutil.chown(folder, "proxy")
            _write(folder / "squid.conf", SQUID.format(**values))
            return ["squid", "-N", "-d", "1", "-f", str(folder / "squid.conf")]
        if name == "apache2":
            _write(folder / "apache2.conf", APACHE.format(**values))
            return ["apache2", "-DFOREGROUND", "-f", str(folder / "apache2.conf")]
        if name == "varnish":
            _write(folder / "default.vcl", VARNISH.format(**values))
            return ["varnishd", "-F", "-a", f"127.0.0.1:{self.port}", "-f", str(folder / "default.vcl"), "-n", str(folder / "varnish"),
                    "-s", "malloc,16m", "-T", f"127.0.0.1:{free_port()}", "-j", "none", "-p", "timeout_idle=60"]
        raise ValueError(name)

    def start(self, wait: float = 15.0) -> Proxy:
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o755)
        command = self.command()
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + wait
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise ProxyError(f"{self.kind.name} did not start ({' '.join(command)}): {self.log()[-2000:]}")
            time.sleep(0.05)

    def log(self) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        for extra in ("error.log", "cache.log"):
            if (self.folder / extra).exists():
                text += (self.folder / extra).read_text(errors="replace")
        return text

    def stop(self) -> None:
        """SIGTERM to the process we started (its workers are in its session, so they go too)."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def __enter__(self) -> Proxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def installed(kind: str) -> bool:
    return shutil.which(KINDS[kind].program) is not None


def version(kind: str) -> str:
    """The program's version line, as it prints it."""
    program = KINDS[kind].program
    flag = {"nginx": "-v", "haproxy": "-v", "squid": "-v", "apache2": "-v", "varnishd": "-V"}[program]
    try:
        result = subprocess.run([program, flag], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    text = (result.stdout + result.stderr).strip().splitlines()
    return text[0].strip() if text else "?"


def _seconds(value: float) -> str:
    return f"{value:g}"


def _write(path: Path, text: str) -> None:
    path.write_text(text.lstrip(), encoding="utf-8")


def _has_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False

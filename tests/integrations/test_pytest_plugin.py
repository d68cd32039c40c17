"""The pytest plugin, exercised the way users run it: pytester sessions in a subprocess."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def run(pytester, *args):
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error", *args, timeout=120)


def test_requests_against_continue_delayed_with_journal_facts(pytester):
    pytester.makepyfile(
        """
        import requests

        def test_delayed_continue(mock_origin):
            response = requests.post(mock_origin.url("/continue/delayed?delay=200ms"), data=b"hello",
                                     headers={"Expect": "100-continue"}, timeout=5)
            assert response.json() == {"received": 5}
            (entry,) = mock_origin.wait_for(1)
            assert entry.behaviour == "continue-delayed"
            assert entry.facts.sent_body_before_continue is True  # requests never waits for a 100
            assert entry.interims[0].status == 100
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=1)


def test_a_request_nothing_matched_fails_the_test_clearly(pytester):
    pytester.makepyfile(
        """
        import urllib3

        def test_typo(mock_origin):
            assert urllib3.request("GET", mock_origin.url("/continue/delay")).status == 404

        def test_expected(mock_origin):
            mock_origin.allow_problems()
            assert urllib3.request("GET", mock_origin.url("/nope")).status == 404
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*the mock origin saw problems:*", "*GET /continue/delay: no behaviour matched GET /continue/delay (closest: continue-delayed (/continue/delayed)*"])


def test_two_files_share_one_server_and_each_test_starts_empty(pytester):
    body = """
        import httpx

        def test_{n}(mock_origin):
            assert mock_origin.journal() == []
            httpx.get(mock_origin.url("/echo?{n}"))
            httpx.get(mock_origin.url("/echo?{n}-again"))
            assert len(mock_origin.wait_for(2)) == 2
            print("SERVER", mock_origin.control.health()["pid"])
        """
    pytester.makepyfile(test_one=body.format(n="one"), test_two=body.format(n="two"))
    result = run(pytester, "-s")
    result.assert_outcomes(passed=2)
    pids = {line.split()[-1] for line in result.stdout.lines if line.strip().startswith("SERVER") or "SERVER" in line}
    assert len(pids) == 1


def test_marker_and_use_with_names_files_and_yaml(pytester):
    pytester.makefile(".yaml", teapot="match: {path: /tea}\nscript: [{respond: 418}]\n")
    pytester.makepyfile(
        """
        import pytest
        import urllib3

        @pytest.mark.mock_origin("echo", "teapot.yaml")
        def test_marker(mock_origin):
            assert urllib3.request("GET", mock_origin.url("/tea")).status == 418
            assert urllib3.request("GET", mock_origin.url("/echo")).status == 200
            mock_origin.allow_problems()
            assert urllib3.request("GET", mock_origin.url("/drip")).status == 404  # not selected

        def test_use_yaml_text(mock_origin):
            mock_origin.use("name: gone\\nmatch: {path: /gone}\\nscript: [{respond: 410}]")
            assert urllib3.request("GET", mock_origin.url("/gone")).status == 410

        def test_the_set_is_back_after(mock_origin):
            assert urllib3.request("GET", mock_origin.url("/drip?bytes=1")).status == 200

        def test_bad_yaml_says_where(mock_origin, tmp_path):
            from mockorigin.pytest_plugin import MockOriginError
            broken = tmp_path / "line-col.yaml"
            broken.write_text("script: [{respond: 600}]\\n")
            with pytest.raises(MockOriginError, match="line-col.yaml:1:20: 600 is out of range"):
                mock_origin.use(broken)
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=4)


def test_ini_option_and_a_broken_file_stops_the_session_with_its_location(pytester):
    pytester.makefile(".yaml", mine="name: mine\nmatch: {path: /mine}\nscript: [{respond: 202}]\n")
    pytester.makeini("[pytest]\nmock_origin_behaviours = mine.yaml\n")
    pytester.makepyfile(
        """
        import urllib3

        def test_mine(mock_origin):
            assert urllib3.request("GET", mock_origin.url("/mine")).status == 202
        """
    )
    run(pytester).assert_outcomes(passed=1)
    pytester.makefile(".yaml", mine="name: mine\nmatch: {path: /mine}\nscript: [{respond: 999}]\n")
    result = run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*the mock origin server did not start*", "*mine.yaml:3:20: 999 is out of range: must be at most 599*"])


def test_curl_subprocess_and_overridden_listen_fixture(pytester):
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def mock_origin_listen():
            return "tcp:0:interface=127.0.0.1"
        """
    )
    pytester.makepyfile(
        """
        import subprocess

        def test_curl(mock_origin):
            out = subprocess.run(["curl", "-sS", "-w", "%{http_code}", "-o", "/dev/null", mock_origin.url("/early-hints")],
                                 capture_output=True, text=True, timeout=30)
            assert out.stdout == "200"
            assert [i.status for i in mock_origin.wait_for(1)[0].interims] == [103]
        """
    )
    run(pytester).assert_outcomes(passed=1)


def test_pytest_twisted_in_process_server(pytester):
    pytester.makepyfile(
        """
        import pytest_twisted
        from twisted.internet import defer, reactor
        from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
        from twisted.internet.protocol import Protocol

        class Collect(Protocol):
            def __init__(self):
                self.data, self.done = b"", defer.Deferred()
            def dataReceived(self, data):
                self.data += data
            def connectionLost(self, reason):
                self.done.callback(self.data)

        @pytest_twisted.inlineCallbacks
        def test_in_process(mock_origin_twisted):
            endpoint = TCP4ClientEndpoint(reactor, mock_origin_twisted.host, mock_origin_twisted.port)
            client = yield connectProtocol(endpoint, Collect())
            client.transport.write(b"GET /processing?count=2&every=10ms HTTP/1.1\\r\\nHost: a\\r\\nConnection: close\\r\\n\\r\\n")
            reply = yield client.done
            assert reply.count(b"HTTP/1.1 102 Processing") == 2 and reply.endswith(b"done after 2 x 102\\n")
            (entry,) = yield mock_origin_twisted.wait_for(1)
            assert [i.status for i in entry.interims] == [102, 102]
        """
    )
    run(pytester).assert_outcomes(passed=1)


def test_twisted_handle_with_a_broken_behaviour_file_errors_each_test_with_its_location(pytester):
    """Loading happens outside pytest-twisted's async fixture: one that fails before it yields
    leaves pytest's fixture state broken for every later test."""
    pytester.makefile(".yaml", mine="name: mine\nmatch: {path: /mine}\nscript: [{respond: 999}]\n")
    pytester.makeini("[pytest]\nmock_origin_behaviours = mine.yaml\n")
    pytester.makepyfile(
        """
        def test_one(mock_origin_twisted):
            pass

        def test_two(mock_origin_twisted):
            pass
        """
    )
    result = run(pytester)
    result.assert_outcomes(errors=2)
    assert result.stdout.str().count("mine.yaml:3:20: 999 is out of range: must be at most 599") >= 2  # once per test (again in the summary, under CI=true)

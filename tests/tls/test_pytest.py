"""The pytest plugin over TLS: override ``mock_origin_listen`` with an ``ssl:`` endpoint and the
handle gives https:// URLs, the CA's path and a ready ``ssl.SSLContext``."""

from __future__ import annotations


def test_the_handle_over_tls(pytester):
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def mock_origin_listen():
            return "ssl:0:interface=127.0.0.1"
        """
    )
    pytester.makepyfile(
        """
        import pathlib
        import ssl
        import urllib.request

        import httpx


        def test_https(mock_origin):
            assert mock_origin.url("/echo").startswith("https://127.0.0.1:")
            assert isinstance(mock_origin.ssl_context, ssl.SSLContext)
            with urllib.request.urlopen(mock_origin.url("/echo"), context=mock_origin.ssl_context, timeout=10) as response:
                assert response.status == 200
            with httpx.Client(http2=True, verify=mock_origin.ssl_context) as client:
                assert client.get(mock_origin.url("/early-hints")).http_version == "HTTP/2"
            first, second = mock_origin.wait_for(2)
            assert first.protocol == "http/1.1" and second.protocol == "h2" and second.tls.alpn == "h2"
            assert pathlib.Path(mock_origin.ca).read_text().startswith("-----BEGIN CERTIFICATE-----")


        def test_plain_handles_have_no_ca(mock_origin_twisted):
            assert mock_origin_twisted.ca is None and mock_origin_twisted.ssl_context is None
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error", timeout=120)
    result.assert_outcomes(passed=2)

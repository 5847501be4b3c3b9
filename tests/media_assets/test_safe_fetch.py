"""SSRF-safe fetching against a real local HTTP(S) server with a scripted resolver."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from media_assets.safe_fetch import FetchError, UnsafeURL, fetch_to_file, is_blocked_address
from tests.media_assets.conftest import RecordingServer, serve_recording

LOOPBACK_FOR_TESTS = ["127.0.0.1/32"]  # the fixture server's address, exempted explicitly


class ScriptedResolver:
    """Answers from a script per host; records every lookup."""

    def __init__(self, script: dict[str, list[list[str]]]) -> None:
        self.script = script
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        answers = self.script[host]
        return answers.pop(0) if len(answers) > 1 else answers[0]


def body(data: bytes, *, content_type: str = "video/mp4"):
    def handler(h) -> None:
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    return handler


def redirect(location: str, code: int = 302):
    def handler(h) -> None:
        h.send_response(code)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return handler


def fetch(url: str, dest: Path, server: RecordingServer, **kwargs):
    kwargs.setdefault("max_bytes", 1_000_000)
    kwargs.setdefault("allowed_ports", {80, 443, server.port})
    return fetch_to_file(url, dest, **kwargs)


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "2130706433",
        "0x7f000001",
        "0177.0.0.1",
        "127.1",
        "0x7f.1",
        "[::ffff:127.0.0.1]",
        "[::1]",
        "[::]",
        "0.0.0.0",
        "localhost",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "100.64.0.1",
        "169.254.169.254",
        "100.100.100.200",
        "[fd00:ec2::254]",
        "[fe80::1]",
        "[::7f00:1]",
        "[2002:7f00:1::]",
        "[64:ff9b::a9fe:a9fe]",
        "[2001:0:4136:e378:8000:63bf:80ff:fffe]",
        "224.0.0.1",
    ],
)
def test_it_refuses_private_hosts_in_every_spelling_before_connecting(
    host: str, tmp_path: Path, recording_server: RecordingServer
) -> None:
    recording_server.routes["/x"] = body(b"secret")
    with pytest.raises(UnsafeURL):
        fetch(f"http://{host}:{recording_server.port}/x", tmp_path / "out", recording_server)
    assert recording_server.connections == []
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "answers",
    [["10.1.2.3"], ["93.184.215.14", "127.0.0.1"], ["::1"], ["::ffff:169.254.169.254"], ["100.100.100.200"]],
)
def test_it_refuses_a_name_when_any_dns_answer_is_private(
    answers: list[str], tmp_path: Path, recording_server: RecordingServer
) -> None:
    resolver = ScriptedResolver({"media.example": [answers]})
    with pytest.raises(UnsafeURL):
        fetch(f"http://media.example:{recording_server.port}/x", tmp_path / "o", recording_server, resolver=resolver)
    assert recording_server.connections == []


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "gopher://example.com/", "ftp://example.com/a.mp4", "data:,hi", "javascript:alert(1)"]
)
def test_it_refuses_non_http_schemes(url: str, tmp_path: Path) -> None:
    with pytest.raises(UnsafeURL, match="Only http and https"):
        fetch_to_file(url, tmp_path / "o", max_bytes=100)


def test_it_refuses_ports_outside_the_allow_list(tmp_path: Path, recording_server: RecordingServer) -> None:
    resolver = ScriptedResolver({"public.example": [["127.0.0.1"]]})
    with pytest.raises(UnsafeURL, match="Port"):
        fetch_to_file(
            f"http://public.example:{recording_server.port}/x", tmp_path / "o",
            max_bytes=100, resolver=resolver, allowed_networks=LOOPBACK_FOR_TESTS,
        )
    assert resolver.calls == [] and recording_server.connections == []


def test_it_connects_only_to_the_checked_address(tmp_path: Path, recording_server: RecordingServer) -> None:
    """DNS rebinding: the first answer is checked and pinned; later answers are never used."""
    recording_server.routes["/clip.mp4"] = body(b"\x00" * 5000)
    resolver = ScriptedResolver({"public.example": [["127.0.0.1"], ["10.9.9.9"]]})
    result = fetch(
        f"http://public.example:{recording_server.port}/clip.mp4", tmp_path / "clip.mp4", recording_server,
        resolver=resolver, allowed_networks=LOOPBACK_FOR_TESTS,
    )
    assert (result.size, result.content_type) == (5000, "video/mp4")
    assert result.path.read_bytes() == b"\x00" * 5000
    assert resolver.calls == ["public.example"]
    assert len(recording_server.connections) == 1
    assert recording_server.requests == [{"path": "/clip.mp4", "host": f"public.example:{recording_server.port}"}]


def test_it_rechecks_every_redirect_hop_against_rebinding(tmp_path: Path, recording_server: RecordingServer) -> None:
    recording_server.routes["/a"] = redirect("/b")
    recording_server.routes["/b"] = body(b"never")
    resolver = ScriptedResolver({"public.example": [["127.0.0.1"], ["10.9.9.9"]]})
    with pytest.raises(UnsafeURL, match="10.9.9.9"):
        fetch(
            f"http://public.example:{recording_server.port}/a", tmp_path / "o", recording_server,
            resolver=resolver, allowed_networks=LOOPBACK_FOR_TESTS,
        )
    assert len(recording_server.requests) == 1 and not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "location",
    ["http://127.0.0.2:{port}/", "http://2130706433:{port}/", "http://169.254.169.254/latest/meta-data/",
     "http://internal.example:{port}/", "http://[::1]:{port}/", "file:///etc/passwd"],
)
def test_it_refuses_a_redirect_to_a_private_target(
    location: str, tmp_path: Path, recording_server: RecordingServer
) -> None:
    recording_server.routes["/go"] = redirect(location.format(port=recording_server.port))
    resolver = ScriptedResolver({"public.example": [["127.0.0.1"]], "internal.example": [["10.0.0.7"]]})
    with pytest.raises(UnsafeURL):
        fetch(
            f"http://public.example:{recording_server.port}/go", tmp_path / "o", recording_server,
            resolver=resolver, allowed_networks=LOOPBACK_FOR_TESTS,
        )
    assert len(recording_server.connections) == 1


def test_it_follows_safe_redirects_up_to_the_cap(tmp_path: Path, recording_server: RecordingServer) -> None:
    for i in range(4):
        recording_server.routes[f"/r{i}"] = redirect(f"/r{i + 1}", code=301 if i % 2 else 307)
    recording_server.routes["/r4"] = body(b"done")
    resolver = ScriptedResolver({"public.example": [["127.0.0.1"]]})
    kwargs = dict(resolver=resolver, allowed_networks=LOOPBACK_FOR_TESTS)
    url = f"http://public.example:{recording_server.port}/r1"
    result = fetch(url, tmp_path / "ok", recording_server, max_redirects=3, **kwargs)
    assert result.final_url.endswith("/r4") and result.path.read_bytes() == b"done"
    with pytest.raises(FetchError, match="redirects"):
        fetch(url.replace("/r1", "/r0"), tmp_path / "no", recording_server, max_redirects=3, **kwargs)


def _unsized(data: bytes):
    """A body without Content-Length, ended by closing the connection."""

    def handler(h) -> None:
        h.send_response(200)
        h.send_header("Connection", "close")
        h.end_headers()
        try:
            h.wfile.write(data)
        except OSError:
            pass
        h.close_connection = True

    return handler


@pytest.mark.parametrize("route", [body, _unsized])
def test_it_cuts_off_a_body_over_the_byte_cap(route, tmp_path: Path, recording_server: RecordingServer) -> None:
    recording_server.routes["/big"] = route(b"a" * 300_000)
    resolver = ScriptedResolver({"public.example": [["127.0.0.1"]]})
    with pytest.raises(FetchError, match="limit"):
        fetch(
            f"http://public.example:{recording_server.port}/big", tmp_path / "big", recording_server,
            max_bytes=100_000, resolver=resolver, allowed_networks=LOOPBACK_FOR_TESTS,
        )
    assert list(tmp_path.iterdir()) == []  # no partial file left


def test_it_cuts_a_trickling_body_at_the_deadline(tmp_path: Path, recording_server: RecordingServer) -> None:
    def trickle(h) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "60")
        h.end_headers()
        try:
            for _ in range(60):
                h.wfile.write(b"x")
                h.wfile.flush()
                time.sleep(1)
        except OSError:
            pass

    recording_server.routes["/slow"] = trickle
    resolver = ScriptedResolver({"public.example": [["127.0.0.1"]]})
    started = time.monotonic()
    with pytest.raises(FetchError, match="within 2 s"):
        fetch(
            f"http://public.example:{recording_server.port}/slow", tmp_path / "slow", recording_server,
            deadline_s=2, resolver=resolver, allowed_networks=LOOPBACK_FOR_TESTS,
        )
    assert 1.9 < time.monotonic() - started < 3.5
    assert list(tmp_path.iterdir()) == []


def test_it_reports_http_errors(tmp_path: Path, recording_server: RecordingServer) -> None:
    resolver = ScriptedResolver({"public.example": [["127.0.0.1"]]})
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch(
            f"http://public.example:{recording_server.port}/missing", tmp_path / "o", recording_server,
            resolver=resolver, allowed_networks=LOOPBACK_FOR_TESTS,
        )


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate valid only for public.example."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "public.example")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("public.example")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_https_is_pinned_to_the_address_but_verified_for_the_name(tmp_path: Path, tls_files) -> None:
    cert_path, key_path = tls_files
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert_path, key_path)
    client_ctx = ssl.create_default_context(cafile=str(cert_path))
    resolver = ScriptedResolver({"public.example": [["127.0.0.1"]], "other.example": [["127.0.0.1"]]})
    with serve_recording(server_ctx) as server:
        server.routes["/a.mp4"] = body(b"tls-bytes")
        common = dict(
            max_bytes=1000, resolver=resolver, allowed_networks=LOOPBACK_FOR_TESTS,
            allowed_ports={server.port}, verify=client_ctx,
        )
        result = fetch_to_file(f"https://public.example:{server.port}/a.mp4", tmp_path / "a", **common)
        assert result.path.read_bytes() == b"tls-bytes"
        assert server.requests[0]["host"] == f"public.example:{server.port}"
        # Same pinned address, another name: the certificate does not match, so it fails.
        with pytest.raises(FetchError):
            fetch_to_file(f"https://other.example:{server.port}/a.mp4", tmp_path / "b", **common)
        assert len(server.requests) == 1


def test_the_address_check_covers_embedded_ipv4() -> None:
    blocked = ["::ffff:10.0.0.1", "2002:a00:1::", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "fd00:ec2::254"]
    public = ["8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808", "2002:808:808::"]
    assert all(is_blocked_address(ipaddress.ip_address(a)) for a in blocked)
    assert not any(is_blocked_address(ipaddress.ip_address(a)) for a in public)

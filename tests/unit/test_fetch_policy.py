"""The repository fetch policy decides before any connection: schemes, local paths, credentials, addresses,
and the pinning settings handed to git."""

from __future__ import annotations

import pytest

from dlhub_manifest.repository.policy import FetchPolicy, FetchRefused, check_url, is_public
from dlhub_manifest.repository.urls import as_sent

STRICT = FetchPolicy()


@pytest.mark.parametrize(("address", "public"), [
    ("93.184.216.34", True), ("2606:2800:220:1:248:1893:25c8:1946", True), ("127.0.0.1", False),
    ("10.0.0.1", False), ("172.16.5.4", False), ("192.168.1.1", False), ("169.254.169.254", False),
    ("100.64.0.1", False), ("0.0.0.0", False), ("224.0.0.1", False), ("::1", False), ("fe80::1", False),
    ("fd00::1", False), ("::ffff:127.0.0.1", False), ("::ffff:10.0.0.1", False),
])
def test_only_global_unicast_addresses_are_public(address: str, public: bool) -> None:
    assert is_public(address) is public


@pytest.mark.parametrize(("url", "why"), [
    ("/srv/repos/x.git", "is a path"), ("file:///srv/repos/x.git", "file:// URLs are never fetched"),
    ("https://u:p@github.com/o/r.git", "carries credentials"), ("https://tok@github.com/o/r", "carries credentials"),
    ("http://github.com/o/r.git", "use https"), ("git@github.com:o/r.git", "use https"),
    ("ext::sh -c touch% /tmp/x", "not a repository URL"), ("https://127.0.0.1/o/r", "non-public address (127.0.0.1)"),
    ("https://localhost:8443/o/r", "non-public address"), ("https://[::1]/o/r", "non-public address (::1)"),
])
def test_strict_policy_refuses(url: str, why: str) -> None:
    with pytest.raises(FetchRefused, match=why.replace("(", r"\(").replace(")", r"\)")):
        check_url(url, STRICT)


def test_an_allowlisted_host_is_pinned_and_keeps_the_servers_credentials() -> None:
    target = check_url("http://127.0.0.1:8080/lab/x.git", FetchPolicy(allow_hosts=("127.0.0.1",)))
    assert target.address == "127.0.0.1" and target.port == 8080
    assert target.git_config == ("http.curloptResolve=127.0.0.1:8080:127.0.0.1", "http.followRedirects=false",
                                 "http.proxy=")


def test_a_public_host_is_pinned_without_credential_helpers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("socket.getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("93.184.216.34", 443))])
    target = check_url("https://forge.example.org/o/r.git", STRICT)
    assert target.git_config[0] == "http.curloptResolve=forge.example.org:443:93.184.216.34"
    assert "credential.helper=" in target.git_config


def test_one_private_address_among_public_ones_is_enough_to_refuse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("socket.getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("93.184.216.34", 443)),
                                                               (2, 1, 6, "", ("10.0.0.7", 443))])
    with pytest.raises(FetchRefused, match="10.0.0.7"):
        check_url("https://rebind.example.org/o/r", STRICT)


def test_ssh_needs_a_key_and_connects_to_the_checked_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("socket.getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("93.184.216.34", 22))])
    target = check_url("git@forge.example.org:o/r.git", FetchPolicy(ssh_key="/etc/dlhub/key"))
    assert target.url == "ssh://git@93.184.216.34:22/o/r.git" and target.host == "forge.example.org"


def test_the_local_user_may_fetch_folders() -> None:
    assert check_url("/srv/repos/x.git", FetchPolicy.local()).scheme == "file"


def test_a_stored_policy_round_trips_and_a_damaged_one_is_strict() -> None:
    policy = FetchPolicy(allow_hosts=("git.lab",), timeout=5, max_bytes=10, max_file_bytes=3)
    assert FetchPolicy.from_json(policy.to_json()) == policy
    assert FetchPolicy.from_json({"trusted": "yes", "timeout": "soon"}) == FetchPolicy()


@pytest.mark.parametrize(("origin", "sent"), [
    ("ssh://git@host:2222/x.git", "ssh://git@host:2222/x.git"), ("https://u:tok@h/x.git", "https://h/x.git"),
    ("git@github.com:o/r.git", "git@github.com:o/r.git"), ("https://h/x.git", "https://h/x.git"),
])
def test_the_origin_is_sent_as_configured_minus_credentials(origin: str, sent: str) -> None:
    assert as_sent(origin) == sent

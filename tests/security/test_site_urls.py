"""Site URLs: https only, and never an address inside a private network (loopback, private
ranges, link-local and cloud metadata, shared/CGNAT space, or a public-looking IPv6 address
that embeds one of those) unless the site explicitly allows private networks — the sandboxes
on 127.0.0.1 need that allowance. Checked when a site is saved and again before requests."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ledgerbridge.errors import ConfigError
from ledgerbridge.netcheck import check_url
from ledgerbridge.setup.errors import SetupError
from ledgerbridge.setup.sites import add_site
from ledgerbridge.store.models import AuditRecord, Site

REFUSED_WITHOUT_ALLOWANCE = [
    "http://shop.example.com",  # not https: the keys travel with every request
    "https://127.0.0.1",
    "https://127.1:8443",  # short form of 127.0.0.1
    "https://2130706433",  # 127.0.0.1 as one number
    "https://0x7f.0.0.1",
    "https://localhost",
    "https://[::1]",
    "https://0.0.0.0",
    "https://10.1.2.3",
    "https://172.16.0.1",
    "https://192.168.1.10",
    "https://169.254.169.254",  # cloud metadata (AWS, GCP, Azure)
    "https://100.100.100.200",  # Alibaba Cloud metadata, in the shared 100.64.0.0/10 space
    "https://100.64.0.1",  # carrier-grade NAT
    "https://[fd00::1]",
    "https://[fe80::1]",
    "https://[::ffff:127.0.0.1]",  # IPv4-mapped loopback
    "https://[64:ff9b::7f00:1]",  # NAT64 of 127.0.0.1
    "https://[64:ff9b::a00:1]",  # NAT64 of 10.0.0.1
    "https://[2002:7f00:1::]",  # 6to4 of 127.0.0.1
    "https://[::127.0.0.1]",  # IPv4-compatible loopback
    "https://224.0.0.1",  # multicast
]
NEVER = [
    "ftp://shop.example.com",
    "javascript:alert(1)",
    "https://",
    "https://user:secret@shop.example.com",  # credentials belong in the key fields
    "shop.example.com",
]


@pytest.mark.parametrize("url", REFUSED_WITHOUT_ALLOWANCE)
def test_private_or_plain_http_addresses_need_the_allowance(url):
    with pytest.raises(ConfigError):
        check_url(url, allow_private_network=False)
    assert check_url(url, allow_private_network=True) == url.rstrip("/")


@pytest.mark.parametrize("url", NEVER)
def test_what_is_never_a_shop_address(url):
    for allowed in (False, True):
        with pytest.raises(ConfigError):
            check_url(url, allow_private_network=allowed)


def test_public_https_addresses_are_accepted():
    assert check_url("https://93.184.215.14/", allow_private_network=False) == (
        "https://93.184.215.14"
    )
    assert check_url("https://[2606:4700::6810:84e5]", allow_private_network=False)


def test_a_hostname_is_judged_by_every_address_it_resolves_to(monkeypatch):
    import socket

    def resolve(host, *args, **kwargs):
        addresses = {"shop.example.com": ["93.184.215.14", "10.0.0.7"]}[host]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 443)) for a in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(ConfigError, match=r"10\.0\.0\.7"):
        check_url("https://shop.example.com", allow_private_network=False)


@pytest.mark.db
@pytest.mark.parametrize("url", ["https://127.0.0.1:8443", "http://shop.example.com"])
def test_saving_a_site_refuses_the_address_and_writes_nothing(make_runtime, url):
    runtime = make_runtime()
    with runtime.transaction() as session:
        before = session.scalar(select(func.count()).select_from(AuditRecord))
    with pytest.raises(SetupError) as refused, runtime.transaction() as session:
        add_site(
            runtime,
            session,
            key="private-shop",
            name="Private",
            connector="woocommerce",
            url=url,
            secrets={"consumer_key": "ck_x", "consumer_secret": "cs_x"},
            actor="test",
        )
    assert "url" in refused.value.fields
    with runtime.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Site)) == 0
        assert session.scalar(select(func.count()).select_from(AuditRecord)) == before


@pytest.mark.db
def test_requests_are_checked_again_when_the_allowance_is_gone(make_runtime):
    """A sandbox site saved with the allowance, then the allowance removed: no request leaves."""
    from ledgerbridge.plugins.types import SandboxOptions
    from ledgerbridge.testing.servers import serve_wsgi
    from ledgerbridge_woocommerce.sandbox import create_app, sandbox_of

    runtime = make_runtime()
    app = create_app(SandboxOptions(extra={"orders": 3}))
    with serve_wsgi(app) as shop:
        with runtime.transaction() as session:
            site = add_site(
                runtime,
                session,
                key="sandbox-shop",
                name="Sandbox",
                connector="woocommerce",
                url=shop.url,
                secrets={"consumer_key": "ck_sandbox", "consumer_secret": "cs_sandbox"},
                allow_private_network=True,
                actor="test",
            )
            context = runtime.site_context(site)
        source = runtime.hooks.source(context)
        assert source.fetch_order("1001")["id"] == 1001
        served = len(sandbox_of(app).shop.orders)
        with runtime.transaction() as session:
            site = session.get(Site, context.id)
            site.allow_private_network = False
            locked = runtime.site_context(site)
        with pytest.raises(ConfigError):
            runtime.hooks.source(locked).fetch_order("1001")
        assert len(sandbox_of(app).shop.orders) == served

"""Log-in is throttled and reset mails are rate-limited (issue 7).

Found by hand: 30 wrong passwords, then the right one, were all accepted; password reset mails
were sent without limit. Counters live in the cache (Redis in production); each test starts
with an empty one (tests/conftest.py).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core import mail
from django.test import Client

pytestmark = pytest.mark.django_db
RIGHT, WRONG = "password", "wrong-password"


def _log_in(client: Client, username: str, password: str, path: str = "/accounts/login/",
            **extra: Any) -> str:
    answer = client.post(path, {"username": username, "password": password}, **extra)
    return str(answer.content.decode()) if answer.status_code == 200 else "redirected"


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_wrong_passwords_lock_the_account_even_for_the_right_one(operator: Any,
                                                                 settings: Any) -> None:
    settings.LOGIN_LOCKOUT_S = 2
    client = Client()
    for _ in range(30):
        _log_in(client, "operator", WRONG)
    page = _log_in(client, "operator", RIGHT)
    assert not _logged_in(client)
    assert "Too many failed log-ins" in page and "try again in 1 minute" in page
    time.sleep(2.2)  # the lockout window passes
    assert _log_in(client, "operator", RIGHT) == "redirected" and _logged_in(client)


def test_the_lockout_starts_at_the_fifth_failure_and_a_success_clears_the_count(
        operator: Any) -> None:
    for _ in range(2):
        client = Client()
        for _ in range(4):
            assert "Too many" not in _log_in(client, "operator", WRONG)
        assert _log_in(client, "operator", RIGHT) == "redirected"
    client = Client()
    for _ in range(5):
        _log_in(client, "operator", WRONG)
    assert "Too many failed log-ins" in _log_in(client, "operator", RIGHT)


def test_the_admin_login_is_locked_too(admin: Any) -> None:
    client = Client()
    for _ in range(5):
        _log_in(client, "admin", WRONG, path="/admin/login/")
    page = _log_in(client, "admin", RIGHT, path="/admin/login/")
    assert not _logged_in(client) and "Too many failed log-ins" in page


def test_one_address_guessing_many_names_is_locked_out(operator: Any, billing_clerk: Any,
                                                       settings: Any) -> None:
    client = Client(REMOTE_ADDR="203.0.113.7")
    for n in range(settings.LOGIN_FAILURES_PER_IP):
        _log_in(client, f"guess{n}", WRONG)
    assert "Too many failed log-ins" in _log_in(client, "operator", RIGHT)
    elsewhere = Client(REMOTE_ADDR="198.51.100.9")
    assert _log_in(elsewhere, "operator", RIGHT) == "redirected"


def test_behind_the_proxy_the_forwarded_address_counts(operator: Any, settings: Any) -> None:
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    for n in range(settings.LOGIN_FAILURES_PER_IP):
        _log_in(Client(**proxy), f"guess{n}", WRONG, HTTP_X_FORWARDED_FOR="203.0.113.7")
    blocked = _log_in(Client(**proxy), "operator", RIGHT, HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert "Too many failed log-ins" in blocked
    # Another client behind the same proxy is not locked out with the guesser; a client
    # claiming an address in front of the proxy changes only the part it controls.
    assert _log_in(Client(**proxy), "operator", RIGHT,
                   HTTP_X_FORWARDED_FOR="203.0.113.7, 198.51.100.9") == "redirected"


def test_the_billing_role_lands_on_its_own_page(billing_clerk: Any, operator: Any) -> None:
    client = Client()
    answer = client.post("/accounts/login/?next=/", {"username": "billing", "password": RIGHT,
                                                     "next": "/"})
    assert answer["Location"] == "/telemetry/energy/"
    assert client.get("/telemetry/energy/").status_code == 200
    answer = Client().post("/accounts/login/", {"username": "operator", "password": RIGHT})
    assert answer["Location"] == "/"


def test_password_reset_mails_are_rate_limited(operator: Any, settings: Any) -> None:
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(settings.PASSWORD_RESET_PER_EMAIL):
        answer = client.post("/accounts/password_reset/", {"email": "operator@example.com"})
        assert answer.status_code == 302
    refused = client.post("/accounts/password_reset/", {"email": "operator@example.com"})
    assert refused.status_code == 200
    assert "Too many password reset requests" in refused.content.decode()
    assert 'class="mainnav"' not in refused.content.decode()  # the layout, logged out
    assert len(mail.outbox) == settings.PASSWORD_RESET_PER_EMAIL
    # An unknown address is limited the same way: the answer tells nothing about accounts.
    for _ in range(settings.PASSWORD_RESET_PER_EMAIL):
        client.post("/accounts/password_reset/", {"email": "nobody@example.com"})
    unknown = client.post("/accounts/password_reset/", {"email": "nobody@example.com"})
    assert "Too many password reset requests" in unknown.content.decode()


def test_one_address_asking_for_many_resets_is_limited(operator: Any, settings: Any) -> None:
    client = Client(REMOTE_ADDR="203.0.113.8")
    for n in range(settings.PASSWORD_RESET_PER_IP):
        client.post("/accounts/password_reset/", {"email": f"user{n}@example.com"})
    refused = client.post("/accounts/password_reset/", {"email": "operator@example.com"})
    assert "Too many password reset requests" in refused.content.decode()
    assert mail.outbox == []

"""Only failed admin sign-ins count towards a lockout (``admin/sign_in_limits.py``): a correct
sign-in gives back the slot it took in every count, and takes none of the failures away
except its own browser's (or username's at its address)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from lti_tool.admin.login import LockedOut, LoginRefused, log_in
from lti_tool.admin.sign_in_limits import MAX_FAILURES_ANYWHERE, MAX_FAILURES_PER_ADDRESS
from tests.support.lti import Launcher
from tests.web.test_admin_access import PASSWORD
from tests.web.test_admin_login import WRONG, make_admin, sign_in, sign_in_from

OFFICE = "198.51.100.7"


def test_successful_sign_ins_are_not_counted_as_failures(launcher: Launcher) -> None:
    # Outside review: every attempt took a slot in the address's ten and the username's twenty
    # before the password was checked, and a success gave back only the username-at-address
    # slots. Eleven correct sign-ins in 15 minutes from browsers that kept no cookie (private
    # windows, a monitoring script, colleagues behind one office address) locked the address
    # out, "Too many failed sign-ins" where none failed.
    app = launcher.app
    make_admin(app)
    for n in range(MAX_FAILURES_ANYWHERE + 1):  # past the address's limit and the username's
        status, page, _ = sign_in(app.test_client(), "root", PASSWORD)
        assert status == 302, f"sign-in {n + 1} (all correct) refused with {status}: " + (
            "failed sign-ins" if "failed sign-ins" in page else page[:200]
        )


def test_a_success_does_not_give_a_guessing_address_more_tries(launcher: Launcher) -> None:
    app = launcher.app
    make_admin(app)
    for n in range(MAX_FAILURES_PER_ADDRESS - 1):
        assert sign_in_from(app.test_client(), OFFICE, f"user{n}", WRONG).status_code == 401
    # The admin signs in from the same address, taking the last slot for a moment.
    assert sign_in_from(app.test_client(), OFFICE, "root", PASSWORD).status_code == 302
    assert sign_in_from(app.test_client(), OFFICE, "user-last", WRONG).status_code == 401
    refused = sign_in_from(app.test_client(), OFFICE, "root", PASSWORD)
    assert refused.status_code == 429
    assert "Too many failed sign-ins from your network address" in refused.get_data(as_text=True)


def test_a_success_elsewhere_does_not_unlock_a_guessed_username(launcher: Launcher) -> None:
    app = launcher.app
    make_admin(app)
    for n in range(MAX_FAILURES_ANYWHERE - 1):
        assert sign_in_from(app.test_client(), f"192.0.2.{n}", "root", WRONG).status_code == 401
    assert sign_in_from(app.test_client(), OFFICE, "root", PASSWORD).status_code == 302
    assert sign_in_from(app.test_client(), "192.0.2.99", "root", WRONG).status_code == 401
    stranger = sign_in_from(app.test_client(), "203.0.113.50", "root", PASSWORD)
    assert stranger.status_code == 429
    assert "Too many failed sign-ins for this username" in stranger.get_data(as_text=True)


@pytest.mark.parametrize("successes", [0, 6])
def test_guesses_alongside_sign_ins_get_no_more_password_checks(
    launcher: Launcher, successes: int
) -> None:
    services = launcher.app.extensions["lti_tool"]
    make_admin(launcher.app)

    def attempt(n: int) -> str:
        right = n < successes
        try:
            log_in(services, "root" if right else f"user{n}", PASSWORD if right else WRONG, OFFICE)
        except LoginRefused:
            return "checked"
        except LockedOut:
            return "locked"
        return "in"

    with ThreadPoolExecutor(max_workers=24) as pool:
        burst = list(pool.map(attempt, range(successes + 24)))
    # The guesses refused while a sign-in held a slot for a moment try again afterwards.
    after = [attempt(100 + n) for n in range(MAX_FAILURES_PER_ADDRESS)]
    guesses = burst[successes:] + after
    if successes:
        # A sign-in holds its slot while its password is checked, so a guess refused in that
        # moment may lock the address a little early; never a check more.
        assert 0 < guesses.count("checked") <= MAX_FAILURES_PER_ADDRESS
    else:
        assert guesses.count("checked") == MAX_FAILURES_PER_ADDRESS
    assert after[-1] == "locked"
    assert "in" not in guesses


def test_an_ipv6_guesser_counts_per_64_as_the_other_limits_do(launcher: Launcher) -> None:
    """One subscriber picks any address in its /64 at will: a new address per guess must not
    give a new allowance (the launch and registration limits count per /64 already)."""
    app = launcher.app
    make_admin(app)
    for n in range(MAX_FAILURES_PER_ADDRESS):
        guess = sign_in_from(app.test_client(), f"2001:db8:5:7::{n + 1:x}", f"user{n}", WRONG)
        assert guess.status_code == 401
    refused = sign_in_from(app.test_client(), "2001:db8:5:7:abcd::99", "someone", WRONG)
    assert refused.status_code == 429
    assert "from your network address" in refused.get_data(as_text=True)
    # The next /64 is another subscriber.
    assert sign_in_from(app.test_client(), "2001:db8:5:8::1", "root", PASSWORD).status_code == 302

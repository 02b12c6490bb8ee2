"""Simulated people for Locust, used by ``bench/pages_bench.py`` and ``bench/load_test.py``.

The plan (accounts, nominations to score, categories to nominate in) is a JSON file named by
``AWARDS_LOCUST_PLAN``, written by the script that starts Locust. What each simulated person
saw succeed is written to ``AWARDS_LOCUST_OUT`` when the run stops, so the database can be
checked against it afterwards: no lost and no duplicated writes.

Each simulated person connects from its own loopback address (127.0.1.1, 127.0.1.2, ...), as
real people connect from their own: the log-in limits per address stay as configured.

- ``FloorUser``: the bench app's bare page (the floor);
- ``DashboardUser``: a reviewer reloading "Your reviews";
- ``ReviewerUser``: a reviewer saving scores (drafts, every fourth save submits), each save
  with the version it read, as the form sends it;
- ``NominatorUser``: a nominator starting, filling in and submitting a nomination.

``AWARDS_LOCUST_THINK``: "0" for no pause between tasks (throughput), or "1-3" seconds.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from collections import defaultdict
from pathlib import Path

from locust import HttpUser, between, constant, events, task
from requests.adapters import HTTPAdapter

PLAN = json.loads(Path(os.environ.get("AWARDS_LOCUST_PLAN", "/dev/null")).read_text() or "{}")
THINK = os.environ.get("AWARDS_LOCUST_THINK", "0")
TIMEOUT = 60

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
VERSION = re.compile(r'name="version"[^>]*value="(\d*)"')
CRITERION = re.compile(r'name="c-(\d+)"')

_addresses = itertools.count(1)
_reviewers = itertools.count()
_nominators = itertools.count()
# What the clients saw succeed, by account.
OUTCOME: dict = {
    "saves": defaultdict(lambda: defaultdict(int)),  # email -> nomination id -> saves
    "conflicts": defaultdict(int),  # email -> saves refused as stale (409)
    "started": defaultdict(list),  # email -> nomination ids
    "submitted": defaultdict(list),  # email -> nomination ids
}


def _wait():
    if THINK in ("", "0"):
        return constant(0)
    low, _, high = THINK.partition("-")
    return between(float(low), float(high or low))


class SourceAddress(HTTPAdapter):
    """Connects from the given loopback address."""

    def __init__(self, address: str, **kwargs) -> None:
        self.address = address
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        return super().init_poolmanager(*args, **kwargs)


def _token(html: str) -> str:
    match = CSRF.search(html)
    if not match:
        raise RuntimeError("no CSRF token in the page")
    return match.group(1)


class AwardsUser(HttpUser):
    abstract = True
    wait_time = _wait()

    def on_start(self) -> None:
        number = next(_addresses)
        address = f"127.0.{1 + number // 250}.{1 + number % 250}"
        self.client.mount("http://", SourceAddress(address))

    def log_in(self, email: str) -> None:
        page = self.client.get("/account/login", name="log-in form", timeout=TIMEOUT)
        with self.client.post(
            "/account/login",
            data={
                "csrf_token": _token(page.text),
                "email": email,
                "password": PLAN["password"],
            },
            name="log in",
            allow_redirects=False,
            catch_response=True,
            timeout=TIMEOUT,
        ) as response:
            if response.status_code != 302:
                response.failure(f"log-in of {email} answered {response.status_code}")
                raise RuntimeError(f"{email} could not log in")


class FloorUser(AwardsUser):
    @task
    def floor(self) -> None:
        self.client.get(PLAN["floor"], name="floor", timeout=TIMEOUT)


class DashboardUser(AwardsUser):
    def on_start(self) -> None:
        super().on_start()
        reviewers = PLAN["reviewers"]
        self.log_in(reviewers[next(_reviewers) % len(reviewers)]["email"])

    @task
    def dashboard(self) -> None:
        self.client.get("/review/", name="reviewer dashboard", timeout=TIMEOUT)


class ReviewerUser(AwardsUser):
    """Saves scores on its own assignments: nobody else edits them, so no save may conflict."""

    def on_start(self) -> None:
        super().on_start()
        reviewers = PLAN["reviewers"]
        account = reviewers[next(_reviewers) % len(reviewers)]
        self.email = account["email"]
        self.log_in(self.email)
        self.rng = random.Random(self.email)  # noqa: S311 (made-up scores)
        self.forms = {}
        for nomination_id in account["nominations"]:
            page = self.client.get(
                f"/review/nominations/{nomination_id}", name="scoring page", timeout=TIMEOUT
            )
            match = VERSION.search(page.text)
            self.forms[nomination_id] = {
                "token": _token(page.text),
                "version": int(match.group(1) or 0) if match else 0,
                "criteria": sorted(set(CRITERION.findall(page.text))),
            }
        self.turn = itertools.cycle(account["nominations"])
        self.count = 0

    @task
    def save_scores(self) -> None:
        nomination_id = next(self.turn)
        form = self.forms[nomination_id]
        self.count += 1
        submit = self.count % 4 == 0
        data = {
            "csrf_token": form["token"],
            "version": str(form["version"]),
            "comments": f"Load test save {self.count} by {self.email}.",
            "submit_review" if submit else "save_draft": "1",
        }
        for criterion in form["criteria"]:
            data[f"c-{criterion}"] = str(self.rng.randint(1, 5))
        with self.client.post(
            f"/review/nominations/{nomination_id}",
            data=data,
            name="scoring save",
            allow_redirects=False,
            catch_response=True,
            timeout=TIMEOUT,
        ) as response:
            if response.status_code == 302:
                form["version"] += 1
                OUTCOME["saves"][self.email][str(nomination_id)] += 1
                response.success()
            else:
                if response.status_code == 409:
                    OUTCOME["conflicts"][self.email] += 1
                response.failure(f"save answered {response.status_code}")


class NominatorUser(AwardsUser):
    """Starts, fills in and submits nominations, one after the other."""

    def on_start(self) -> None:
        super().on_start()
        nominators = PLAN["nominators"]
        account = nominators[next(_nominators) % len(nominators)]
        self.email = account["email"]
        self.category = account["category"]
        self.log_in(self.email)
        self.count = 0

    @task
    def nominate(self) -> None:
        self.count += 1
        category = self.category
        start_url = f"/nominations/new/{category['id']}"
        page = self.client.get(start_url, name="start form", timeout=TIMEOUT)
        nominee = {
            "self_nomination": "self",
            "nominee_name": f"Load Test Initiative {self.email.split('@')[0]} {self.count}",
            "nominee_organisation": "Load Test Cooperative",
            "nominee_country": "KE",
            "nominee_email": "",
            "language": "en",
        }
        with self.client.post(
            start_url,
            data={"csrf_token": _token(page.text), **nominee},
            name="start nomination",
            allow_redirects=False,
            catch_response=True,
            timeout=TIMEOUT,
        ) as response:
            match = re.search(r"/nominations/(\d+)/edit", response.headers.get("Location", ""))
            if response.status_code != 302 or not match:
                response.failure(f"start answered {response.status_code}")
                return
            nomination_id = int(match.group(1))
            OUTCOME["started"][self.email].append(nomination_id)
        edit_url = f"/nominations/{nomination_id}/edit"
        page = self.client.get(edit_url, name="nomination form", timeout=TIMEOUT)
        version = VERSION.search(page.text)
        data = {
            "csrf_token": _token(page.text),
            "version": version.group(1) if version else "",
            "review": "1",
            **nominee,
        }
        for question in category["questions"]:
            data[f"q-{question['id']}"] = question["answer"]
        with self.client.post(
            edit_url,
            data=data,
            name="save nomination",
            allow_redirects=False,
            catch_response=True,
            timeout=TIMEOUT,
        ) as response:
            if response.status_code != 302 or "/edit" in response.headers.get("Location", ""):
                response.failure(f"saving the answers answered {response.status_code}")
                return
        with self.client.post(
            f"/nominations/{nomination_id}/submit",
            data={"csrf_token": _token(page.text)},
            name="submit nomination",
            allow_redirects=False,
            catch_response=True,
            timeout=TIMEOUT,
        ) as response:
            if response.status_code != 302:
                response.failure(f"submit answered {response.status_code}")
                return
        # Submitted: the nomination's page no longer offers to submit it (in any language).
        view = self.client.get(
            f"/nominations/{nomination_id}", name="nomination page", timeout=TIMEOUT
        )
        if f"/nominations/{nomination_id}/submit" in view.text:
            events.request.fire(
                request_type="CHECK",
                name="submitted",
                response_time=0,
                response_length=0,
                exception=RuntimeError(f"nomination {nomination_id} was not submitted"),
            )
            return
        OUTCOME["submitted"][self.email].append(nomination_id)


# Exact numbers of each kind of person when the runner asks for them (0: by weight).
ReviewerUser.fixed_count = int(os.environ.get("AWARDS_LOCUST_REVIEWERS", "0"))
NominatorUser.fixed_count = int(os.environ.get("AWARDS_LOCUST_NOMINATORS", "0"))


@events.test_stop.add_listener
def _write_outcome(**_kwargs) -> None:
    target = os.environ.get("AWARDS_LOCUST_OUT")
    if target:
        Path(target).write_text(json.dumps(OUTCOME, indent=1))

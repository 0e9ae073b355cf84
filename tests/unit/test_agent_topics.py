"""The fleet's topic names, as the broker's ACL and the admin's tools expect them."""

from __future__ import annotations

import pytest

from appliance.agent import topics
from appliance.errors import UsageError


def test_every_topic_of_a_box_is_under_its_own_subtree() -> None:
    names = [
        topics.status("box-1"),
        topics.telemetry("box-1"),
        topics.event("box-1", "sale"),
        topics.command("box-1", "ping"),
        topics.result("box-1", "c-1"),
        topics.desired("box-1"),
        topics.reported("box-1"),
    ]
    assert all(name.startswith("comptoir/v1/box-1/") for name in names)
    assert topics.split(topics.event("box-1", "door_alarm")) == ("box-1", "event", "door_alarm")
    assert topics.split("elsewhere/v1/box-1/status") == ("", "", "")


def test_a_shared_subscription_names_its_group() -> None:
    assert (
        topics.shared("backend", "comptoir/v1/+/event/#") == "$share/backend/comptoir/v1/+/event/#"
    )


@pytest.mark.parametrize("group", ["", "a/b", "+", "#", "x" * 65])
def test_a_group_name_that_would_change_the_topic_filter_is_refused(group: str) -> None:
    with pytest.raises(UsageError, match="shared subscription group"):
        topics.shared(group, "comptoir/v1/+/event/#")

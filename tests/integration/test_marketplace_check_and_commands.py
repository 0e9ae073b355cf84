"""`comptoir marketplace check`, `sync`, `orders` against the fake Open Food Network."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.cli import main
from appliance.marketplace.fake import FakeState, seed, serve


@pytest.fixture
def fake() -> FakeState:
    return seed.demo()


@pytest.fixture
def site(fake: FakeState, tmp_path: Path, data_dir: Path) -> Iterator[dict]:
    """Writes the config for a given [marketplace] section; returns the --config arguments."""
    key = tmp_path / "ofn.key"
    key.write_text(seed.DEMO_KEY)
    with serve(fake) as url:

        def configure(**marketplace: object) -> list[str]:
            values = {
                "url": url,
                "api_key_file": str(key),
                "hub_id": seed.HUB_ID,
                "shipping_method_ids": [seed.LOCKER_METHOD_ID],
                **marketplace,
            }
            lines = [f"[device]\ndata_dir = {json.dumps(str(data_dir))}\n[marketplace]"]
            lines += [f"{k} = {json.dumps(v)}" for k, v in values.items()]
            path = tmp_path / "comptoir.toml"
            path.write_text("\n".join(lines) + "\n")
            return ["--config", str(path)]

        yield {"configure": configure, "key": key}


def test_check_passes_on_a_well_set_up_site(site, capsys):
    code = main([*site["configure"](), "marketplace", "check"])

    out = capsys.readouterr().out
    assert code == 0, out
    assert "'Casier – Ferme des Lilas'" in out and "PROBLEM" not in out


def test_check_names_a_wrong_key(site, capsys):
    site["key"].write_text("wrong-key")

    code = main([*site["configure"](), "marketplace", "check"])

    assert code == 1
    assert "PROBLEM wrong API key" in capsys.readouterr().out


def test_check_says_when_the_key_user_does_not_manage_the_hub(site, capsys):
    site["key"].write_text("other-hub-key")

    code = main([*site["configure"](), "marketplace", "check"])

    assert code == 1
    assert "does not manage hub 3" in capsys.readouterr().out


def test_check_names_an_unknown_shipping_method(site, capsys):
    code = main([*site["configure"](shipping_method_ids=[99]), "marketplace", "check"])

    out = capsys.readouterr().out
    assert code == 1
    assert "unknown shipping method 99" in out and "7 'Casier – Ferme des Lilas'" in out


def test_check_warns_of_the_legacy_inventory_and_knows_old_releases(site, fake, capsys):
    fake.release = "5.6.0"
    next(iter(fake.variants.values())).overrides = 1

    code = main([*site["configure"](), "marketplace", "check", "--json"])

    findings = json.loads(capsys.readouterr().out)
    assert code == 1
    texts = " ".join(f["text"] for f in findings)
    assert "legacy inventory in use" in texts
    assert "q[variants_supplier_id_eq]" in texts


def test_sync_once_then_status_and_orders_list(site, capsys):
    args = site["configure"]()

    assert main([*args, "sync", "--once", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["requests"] > 0

    assert main([*args, "sync", "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert {d["direction"] for d in status["directions"] if d["last_success_at"]} == {
        "catalogue",
        "orders",
        "pickups",
        "stock",
    }
    assert status["order_cycles_seen"] == [seed.ORDER_CYCLE_ID]

    assert main([*args, "orders", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == 4
    assert all(o["state"] == "waiting" and o["collected"] is False for o in listed)
    assert all(o["compartment"] is None and o["lines"] for o in listed)


def test_sync_without_a_key_file_says_which_key_to_set(site, capsys):
    args = site["configure"]()
    site["key"].unlink()

    assert main([*args, "sync", "--once"]) == 3
    assert "[marketplace] api_key_file" in capsys.readouterr().err


def test_orders_import_adds_orders_for_sites_without_marketplace(site, tmp_path, capsys):
    args = site["configure"](url="")
    file = tmp_path / "orders.json"
    file.write_text(
        json.dumps(
            {
                "orders": [
                    {
                        "number": "A-17",
                        "customer_name": "Zoé Blanc",
                        "lines": [{"name": "Panier légumes", "quantity": 1, "price_cents": 1500}],
                    }
                ]
            }
        )
    )

    assert main([*args, "orders", "import", str(file)]) == 0
    assert main([*args, "orders", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert [(o["number"], o["state"], o["source"]) for o in listed] == [
        ("A-17", "waiting", "import")
    ]
    assert main([*args, "orders", "list"]) == 0
    row = capsys.readouterr().out.splitlines()[-1]
    assert " 1 line " in row and "lines" not in row and row.endswith("Zoé Blanc")


def test_orders_import_refuses_a_bad_file_and_keeps_nothing(site, tmp_path, capsys):
    args = site["configure"](url="")
    file = tmp_path / "orders.json"
    good = {"number": "A-1", "customer_name": "Zoé", "lines": [{"name": "Œufs", "quantity": 1}]}
    bad = {"number": "A-2", "customer_name": "Léo", "lines": [{"name": "Œufs", "quantity": 0}]}
    file.write_text(json.dumps([good, bad]))

    assert main([*args, "orders", "import", str(file)]) == 2
    assert "order A-2 line 1: quantity must be at least 1" in capsys.readouterr().err
    assert main([*args, "orders", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_check_says_whether_the_shop_sales_order_can_take_sales(site, fake, capsys):
    good = main(
        [*site["configure"](shop_sales_order=seed.SHOP_SALES_ORDER), "marketplace", "check"]
    )
    good_out = capsys.readouterr().out
    wrong = main([*site["configure"](shop_sales_order="R000000555"), "marketplace", "check"])
    wrong_out = capsys.readouterr().out

    assert (
        good == 0
        and f"ok      order {seed.SHOP_SALES_ORDER} can take the on-site sales" in good_out
    )
    assert wrong == 1
    assert "PROBLEM order R000000555 ([marketplace] shop_sales_order) cannot be read" in wrong_out

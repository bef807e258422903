"""Customer privacy at ingest: keyed hashes with a per-workspace secret kept outside the store, and clear
contact data only when the workspace opts in."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from connectors import files
from models import privacy
from models.store import Store
from tests.commerce.support import rows
from tests.files.conftest import FIXTURES


def test_the_secret_is_created_once_outside_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(privacy.SECRET_ENV, raising=False)
    store_file = tmp_path / "data" / "triad.duckdb"
    first = privacy.workspace_secret(store_file)
    path = privacy.secret_path(store_file)
    assert path == tmp_path / "data" / ".workspace_secret-triad" and path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert privacy.workspace_secret(store_file) == first
    assert privacy.workspace_secret(tmp_path / "data" / "other.duckdb") != first  # one secret per workspace
    path.write_text("")
    with pytest.raises(privacy.WorkspaceSecretError, match="empty or damaged"):
        privacy.workspace_secret(store_file)


def test_the_environment_secret_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(privacy.SECRET_ENV, "s" * 40)
    assert privacy.workspace_secret(tmp_path / "x.duckdb") == b"s" * 40
    assert not privacy.secret_path(tmp_path / "x.duckdb").exists()
    monkeypatch.setenv(privacy.SECRET_ENV, "short")
    with pytest.raises(privacy.WorkspaceSecretError, match="too short"):
        privacy.workspace_secret(tmp_path / "x.duckdb")


def test_keys_link_the_same_buyer_and_reveal_nothing() -> None:
    secret = b"k" * 32
    key = privacy.customer_key(secret, email=" Jane.Buyer@Example.com ")
    assert key == privacy.customer_key(secret, email="jane.buyer@example.com", phone="+1 555")
    assert key != privacy.customer_key(
        b"x" * 32, email="jane.buyer@example.com"
    )  # keyed: no dictionary attack
    assert "jane" not in key and len(key) == privacy.KEY_HEX_DIGITS
    by_phone = privacy.customer_key(secret, phone="+1 (555) 555-0123")
    assert by_phone == privacy.customer_key(secret, email="not-an-email", phone="+15555550123")
    assert privacy.customer_key(secret, external_id=42, source="shopify") != privacy.customer_key(
        secret, external_id=42, source="woocommerce"
    )
    assert privacy.customer_key(secret) is None and privacy.customer_key(secret, external_id=0) is None


def test_clear_contact_data_only_when_the_workspace_opts_in(store: Store) -> None:
    files.import_file(store, "orders", FIXTURES / "orders_export.csv")  # migration 5 made the table
    assert rows(store, "SELECT * FROM customer_contacts") == []  # the default: keys only

    with store.transaction() as cur:
        cur.execute("INSERT INTO settings (key, value) VALUES (?, 'true')", [privacy.STORE_CONTACTS_SETTING])
    files.import_file(
        store, "orders", FIXTURES / "orders_export.csv", options=files.ReadOptions(date_order="dmy")
    )
    contacts = {r["email"] for r in rows(store, "SELECT email FROM customer_contacts")}
    assert contacts == {"jane.buyer@example.com", "guest@example.net"}

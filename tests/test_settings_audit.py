"""Workspace settings and the audit log: validated, stored, and every change recorded with before/after."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.audit import audit_entries, record_row_changes
from models.settings import all_settings, get_setting, set_setting
from models.store import get_store


def test_settings_default_validate_store_and_audit(empty_db: Path) -> None:
    store = get_store(empty_db)
    with store.connect() as cur:
        assert get_setting(cur, "attribution.window_days") == 30
        assert all_settings(cur)["customers.churn_days"] == 30
    with store.transaction() as cur:
        set_setting(cur, "attribution.window_days", 14, username="maya")
        set_setting(cur, "attribution.window_days", 14, username="maya")  # unchanged: no second entry
    with pytest.raises(ValueError, match="between 1 and 365"), store.transaction() as cur:
        set_setting(cur, "attribution.window_days", 0)
    with pytest.raises(ValueError, match="code_first"), store.transaction() as cur:
        set_setting(cur, "attribution.precedence", "random")
    with pytest.raises(KeyError), store.connect() as cur:
        get_setting(cur, "nope")
    with store.connect() as cur:
        assert get_setting(cur, "attribution.window_days") == 14
        entries = audit_entries(cur, table="settings")
    assert entries.height == 1
    row = entries.row(0, named=True)
    assert row["username"] == "maya" and row["row_key"] == "attribution.window_days"
    assert json.loads(row["old_value"]) == 30 and json.loads(row["new_value"]) == 14
    store.close()


def test_record_row_changes_writes_only_changed_columns(empty_db: Path) -> None:
    store = get_store(empty_db)
    with store.transaction() as cur:
        n = record_row_changes(
            cur,
            username="admin",
            table="influencers",
            row_key=7,
            before={"owner": "Sam", "tags": ["vip"]},
            after={"owner": "Maya", "tags": ["vip"]},
        )
    with store.connect() as cur:
        entries = audit_entries(cur, username="admin")
    assert n == 1 and entries["column_name"].to_list() == ["owner"]
    store.close()

"""app/regions/diff.py directly: the changes between two policy documents, leaf by leaf."""

from __future__ import annotations

from app.regions.diff import changes


def test_equal_documents_have_no_changes() -> None:
    policy = {"retentionDays": 730, "deadlines": {"rows": [{"response": 3}]}}
    assert changes(policy, policy) == []


def test_changed_added_and_removed_leaves_with_dotted_paths() -> None:
    old = {"retentionDays": 730, "deadlines": {"rows": [{"response": 3}, {"response": 5}]}, "gone": 1}
    new = {"retentionDays": 365, "deadlines": {"rows": [{"response": 3}, {"response": 4}]}, "added": True}
    assert changes(old, new) == [
        {"path": "retentionDays", "from": 730, "to": 365},
        {"path": "deadlines.rows.1.response", "from": 5, "to": 4},
        {"path": "gone", "from": 1, "to": None},
        {"path": "added", "from": None, "to": True},
    ]


def test_a_list_of_another_length_is_one_change() -> None:
    assert changes({"closureDays": ["2026-12-24"]}, {"closureDays": []}) == [
        {"path": "closureDays", "from": ["2026-12-24"], "to": []}
    ]


def test_replacing_the_whole_document_is_named() -> None:
    assert changes(1, 2) == [{"path": "(policy)", "from": 1, "to": 2}]

"""PII detection and redaction: each kind, the near misses that must not be flagged, and the dataset steps."""

from __future__ import annotations

import pandas as pd
import pytest
from data_paths import SELF_INSTRUCT

from curator_synth.dataset import DocumentDataset
from curator_synth.errors import ConfigError
from curator_synth.filters.base import FILTERS
from curator_synth.filters.pii import PII_KINDS, PiiFilter, PiiMatch, RedactPii, detect_pii, luhn_valid, redact_pii
from curator_synth.filters.steps import Score, ScoreFilter


def kinds(text: str) -> list[tuple[str, str]]:
    return [(m.kind, m.text) for m in detect_pii(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to john.doe+news@example.co.uk today", [("email", "john.doe+news@example.co.uk")]),
        ("call (415) 555-2671 now", [("phone", "(415) 555-2671")]),
        ("call 415-555-2671 or 415.555.2671", [("phone", "415-555-2671"), ("phone", "415.555.2671")]),
        ("call +1 (415) 555-2671", [("phone", "+1 (415) 555-2671")]),
        ("London: +44 20 7946 0958.", [("phone", "+44 20 7946 0958")]),
        ("Paris +33 1 42 68 53 00", [("phone", "+33 1 42 68 53 00")]),
        ("visa 4111 1111 1111 1111", [("credit_card", "4111 1111 1111 1111")]),
        ("amex 3782-822463-10005", [("credit_card", "3782-822463-10005")]),
        ("card 5555555555554444.", [("credit_card", "5555555555554444")]),
        ("ssn 123-45-6789", [("ssn", "123-45-6789")]),
        ("my SSN is 123456789", [("ssn", "123456789")]),
        ("host 192.168.1.10.", [("ip_address", "192.168.1.10")]),
        ("v6 2001:db8::8a2e:370:7334 ok", [("ip_address", "2001:db8::8a2e:370:7334")]),
        ("fe80::1ff:fe23:4567:890a%", [("ip_address", "fe80::1ff:fe23:4567:890a")]),
        ("OPENAI=sk-proj-abcdefghijklmnopqrstuvwx12", [("api_key", "sk-proj-abcdefghijklmnopqrstuvwx12")]),
        ("aws AKIAIOSFODNN7EXAMPLE", [("api_key", "AKIAIOSFODNN7EXAMPLE")]),
        ("gh ghp_0123456789abcdefghijABCDEFGHIJ012345", [("api_key", "ghp_0123456789abcdefghijABCDEFGHIJ012345")]),
        ("hf_abcdefghijklmnopqrstuvwxyzABCDEFGH", [("api_key", "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH")]),
        ("nvapi-abcdefghijklmnopqrstuvwxyz012345", [("api_key", "nvapi-abcdefghijklmnopqrstuvwxyz012345")]),
        ("api_key=9f8e7d6c5b4a39281706f5e4d3c2b1a0", [("api_key", "9f8e7d6c5b4a39281706f5e4d3c2b1a0")]),
        ('"auth_token": "dGhpcyBpcyBhIHNlY3JldCB0b2tlbjEy"', [("api_key", "dGhpcyBpcyBhIHNlY3JldCB0b2tlbjEy")]),
    ],
)
def test_detects_each_kind(text: str, expected: list[tuple[str, str]]) -> None:
    assert kinds(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "bad card 4111 1111 1111 1112",  # Luhn-invalid
        "4111111111111112 is not a card",
        "order 1234567890123 and 9999999999999995",  # Luhn valid but not a card network (9...)
        "4111 1111-1111 1111",  # mixed separators
        "It costs $1,234,567.89 or €4,500.00, a 15% rise",
        "prices: $415-555-2671? no: $415.55 each",
        "The range is 1990-2000 and 2023-10-05 is a date",
        "ISBN 978-3-16-148410-0",
        "Order #5551234567 and unix time 1712345678",
        "version 1.2.3.4.5 and 999.1.1.1",
        "time 12:30:45 and ratio 3:2",
        "SSN-like 000-12-3456, 666-12-3456, 900-12-3456, 123-00-4567",
        "key=shortvalue and password=hunter2",
        "token = 'thisisjustaverylongwordwithoutdigits'",
        "Use the @decorator and email me at home",
    ],
)
def test_near_misses_are_not_flagged(text: str) -> None:
    assert detect_pii(text) == []


def test_luhn() -> None:
    assert luhn_valid("4111111111111111")
    assert luhn_valid("378282246310005")
    assert not luhn_valid("4111111111111112")
    assert not luhn_valid("4111-1111")


def test_overlaps_keep_the_longer_match_and_spans_are_exact() -> None:
    text = "email a.b@host.io, token=ab12cd34ef56ab78cd90ef12ab34cd56 and 10.0.0.1"
    found = detect_pii(text)
    assert [m.kind for m in found] == ["email", "api_key", "ip_address"]
    assert all(text[m.start : m.end] == m.text for m in found)
    assert isinstance(found[0], PiiMatch)


def test_redaction_and_kinds_subset() -> None:
    text = "Mail a@b.com or call 415-555-2671 from 10.1.2.3"
    assert redact_pii(text) == "Mail [email] or call [phone] from [ip_address]"
    assert redact_pii(text, "<{kind}>", kinds=["email"]) == "Mail <email> or call 415-555-2671 from 10.1.2.3"
    assert redact_pii("nothing here") == "nothing here"
    with pytest.raises(ConfigError):
        detect_pii(text, kinds=["passport"])
    assert detect_pii(None) == []  # type: ignore[arg-type]


def test_pii_filter_drops_or_counts_over_partitions() -> None:
    df = pd.DataFrame(
        {"text": ["no pii here", "mail me: x@y.org", None, "card 4111111111111111 and a@b.cc", "price $19.99"]}
    )
    dataset = DocumentDataset.from_pandas(df, npartitions=2)
    kept, report = ScoreFilter(PiiFilter(), score_field="pii")(dataset).compute_with_report()  # type: ignore[attr-defined]
    assert list(kept["text"].fillna("<na>")) == ["no pii here", "<na>", "price $19.99"]
    assert report.reasons == {"pii:has_pii": 2}
    counted = Score(PiiFilter(), score_field="pii_count")(dataset).to_pandas()
    assert list(counted["pii_count"]) == [0, 1, 0, 2, 0]
    assert FILTERS.get("pii") is PiiFilter
    assert PiiFilter(max_matches=1).keep_document(1) is True
    with pytest.raises(ConfigError):
        PiiFilter(max_matches=-1)


def test_redact_step_adds_a_column_and_keeps_missing_values() -> None:
    df = pd.DataFrame({"text": ["Reach me at x@y.org", None, "plain"], "id": [1, 2, 3]})
    out = RedactPii("text")(DocumentDataset.from_pandas(df, npartitions=2)).to_pandas()
    assert list(out.columns) == ["text", "id", "text_redacted"]
    assert out["text_redacted"].iloc[0] == "Reach me at [email]"
    assert pd.isna(out["text_redacted"].iloc[1])
    assert out["text_redacted"].iloc[2] == "plain"
    with pytest.raises(ConfigError):
        RedactPii("nope")(DocumentDataset.from_pandas(df)).to_pandas()


def test_kinds_constant() -> None:
    assert set(PII_KINDS) == {"email", "phone", "credit_card", "ssn", "ip_address", "api_key"}


def test_real_answers_have_little_pii_and_redaction_is_idempotent() -> None:
    texts = pd.read_json(SELF_INSTRUCT / "predictions_text-davinci-003.jsonl", lines=True)["response"]
    counts = PiiFilter().score_batch(texts)
    assert counts.sum() < 0.1 * len(texts)  # creative answers, a few made-up emails/phones at most
    for text in texts:
        once = redact_pii(text)
        assert redact_pii(once) == once

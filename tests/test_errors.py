from __future__ import annotations

import pytest

from curator_synth import errors as e


def test_one_tree() -> None:
    for name in e.__all__:
        obj = getattr(e, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, e.CuratorSynthError), name


@pytest.mark.parametrize(
    ("status", "cls", "retryable"),
    [
        (400, e.BadRequestError, False),
        (401, e.AuthenticationError, False),
        (403, e.PermissionDeniedError, False),
        (404, e.NotFoundError, False),
        (422, e.BadRequestError, False),
        (429, e.RateLimitError, True),
        (500, e.ServerError, True),
        (502, e.ServerError, True),
        (503, e.ServerError, True),
        (408, e.ServerError, True),
        (418, e.APIStatusError, False),
    ],
)
def test_status_classes(status: int, cls: type[e.APIStatusError], retryable: bool) -> None:
    assert e.status_error_for(status) is cls
    assert cls.retryable is retryable


def test_retryability_is_by_type() -> None:
    assert e.ConnectError.retryable
    assert e.RequestTimeoutError.retryable
    assert e.MalformedResponseError.retryable
    assert not e.TruncatedResponseError.retryable  # only when the caller asks
    assert not e.YamlConversionError.retryable
    assert issubclass(e.YamlConversionError, e.ResponseParseError)


def test_missing_dependency_is_import_error_with_hint() -> None:
    error = e.MissingDependencyError("sentence-transformers", "embeddings", "Semantic dedup")
    assert isinstance(error, ImportError)
    assert "pip install 'curator_synth[embeddings]'" in str(error)


def test_config_error_is_value_error() -> None:
    assert issubclass(e.ConfigError, ValueError)
    assert issubclass(e.ConversationFormatError, e.ConfigError)


def test_request_summary_drops_credentials_in_url() -> None:
    summary = e.RequestSummary.create("POST", "https://user:pw@host.example:8443/v1/chat?key=abc", "m", 10)
    assert str(summary) == "POST https://host.example:8443/v1/chat model=m"
    assert "pw" not in repr(summary)
    assert "abc" not in repr(summary)


def test_status_error_message() -> None:
    summary = e.RequestSummary.create("POST", "http://127.0.0.1:1/v1/chat/completions", "m")
    error = e.RateLimitError("slow down", status_code=429, request=summary, body="x" * 1000, retry_after=2.0)
    assert error.status_code == 429
    assert error.retry_after == 2.0
    assert "HTTP 429" in str(error)
    assert "slow down" in str(error)
    assert len(error.body) == 300


def test_every_error_pickles_with_its_class_message_and_attributes() -> None:
    """Errors raised on Dask workers reach the driver as themselves (keyword-only constructors included)."""
    import pickle

    summary = e.RequestSummary.create("POST", "http://127.0.0.1:1/v1/chat/completions", "m")
    errors = [
        e.AuthenticationError("bad key", status_code=401, request=summary, body="no"),
        e.RateLimitError("slow down", status_code=429, request=summary, retry_after=2.5),
        e.ConnectError("dropped", request=summary),
        e.MissingDependencyError("torch", "transformers", "the in-process model client"),
        e.DataFormatError("data.jsonl", 7, "not JSON"),
        e.StageError("responses: all 3 records failed"),
    ]
    for error in errors:
        error.add_note("partition 3")
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert str(copy) == str(error)
        assert copy.__dict__ == error.__dict__
        assert copy.__notes__ == ["partition 3"]
    assert pickle.loads(pickle.dumps(errors[1])).retry_after == 2.5

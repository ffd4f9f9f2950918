"""query_structured against FakeLLMServer over real loopback sockets: JSON-schema mode, fallback, repairs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

import pytest
from pydantic import BaseModel, Field

from curator_synth.clients import AsyncOpenAIClient
from curator_synth.errors import BadRequestError, ConfigError, ResponseParseError
from curator_synth.structured import query_structured, response_format_for, schema_instruction
from curator_synth.testing import Cycle, FakeLLMServer, FakeRequest, Recording

USER = [{"role": "user", "content": "Invent a person."}]
GOOD = '{"name": "Ada", "age": 36}'


class Person(BaseModel):
    name: str
    age: int
    nickname: str | None = None


def rejects_response_format(request: FakeRequest) -> str:
    if "response_format" in request.body:
        raise ValueError("response_format is not supported by this server")
    return GOOD


@pytest.fixture
def recorder() -> Recording:
    return Recording(lambda request: GOOD)


@pytest.fixture
def server(recorder: Recording) -> Iterator[FakeLLMServer]:
    with FakeLLMServer(recorder) as srv:
        yield srv


async def test_json_schema_mode(server: FakeLLMServer, recorder: Recording) -> None:
    async with AsyncOpenAIClient(base_url=server.base_url, api_key="k") as client:
        person = await query_structured(client, messages=USER, model="m", schema=Person, temperature=0.2)
    assert person == Person(name="Ada", age=36)
    [body] = recorder.bodies
    assert body["temperature"] == 0.2
    assert body["messages"] == USER  # no instruction added: the endpoint constrains decoding
    response_format = body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "Person"
    assert response_format["json_schema"]["strict"] is True
    schema = response_format["json_schema"]["schema"]
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["name", "age", "nickname"]
    assert schema["properties"]["name"] == {"title": "Name", "type": "string"}


async def test_fallback_to_prompt_mode_is_remembered_per_client_and_model() -> None:
    recorder = Recording(rejects_response_format)
    with FakeLLMServer(recorder) as srv:
        async with AsyncOpenAIClient(base_url=srv.base_url, api_key="k") as client:
            assert await query_structured(client, messages=USER, model="m", schema=Person) == Person(name="Ada", age=36)
            assert srv.stats()["by_status"] == {"400": 2, "200": 1}  # json_schema, json_object, then the prompt
            first, second, third = recorder.bodies
            assert first["response_format"]["type"] == "json_schema"
            assert second["response_format"] == {"type": "json_object", "schema": Person.model_json_schema()}
            assert "response_format" not in third
            assert third["messages"][0]["role"] == "system"
            assert json.dumps(Person.model_json_schema()) in third["messages"][0]["content"]
            assert third["messages"][1:] == USER

            await query_structured(client, messages=USER, model="m", schema=Person)
            assert len(recorder.bodies) == 4  # the known-failing attempts are skipped
            assert "response_format" not in recorder.bodies[3]

            await query_structured(client, messages=USER, model="other", schema=Person)
            assert "response_format" in recorder.bodies[4]  # another model may support it
            assert len(recorder.bodies) == 7

        async with AsyncOpenAIClient(base_url=srv.base_url, api_key="k") as fresh:
            await query_structured(fresh, messages=USER, model="m", schema=Person)
        assert "response_format" in recorder.bodies[7]


async def test_a_400_in_prompt_mode_too_is_raised_and_not_remembered() -> None:
    def always_bad(request: FakeRequest) -> str:
        raise ValueError("context length exceeded")

    with FakeLLMServer(Recording(always_bad)) as srv:
        async with AsyncOpenAIClient(base_url=srv.base_url, api_key="k") as client:
            for _ in range(2):
                with pytest.raises(BadRequestError, match="context length exceeded"):
                    await query_structured(client, messages=USER, model="m", schema=Person)
        assert srv.stats()["by_status"] == {"400": 6}  # each call tried every mode, none was remembered


async def test_repair_succeeds_on_the_second_try() -> None:
    bad = 'Sure! Here it is:\n```json\n{"name": "Ada", "age": "thirty-six"}\n```'
    recorder = Recording(Cycle([bad, GOOD]))
    system = {"role": "system", "content": "You are terse."}
    with FakeLLMServer(recorder) as srv:
        async with AsyncOpenAIClient(base_url=srv.base_url, api_key="k") as client:
            person = await query_structured(client, messages=[system, *USER], model="m", schema=Person, mode="prompt")
    assert person == Person(name="Ada", age=36)
    first, second = recorder.bodies
    assert "response_format" not in first
    [merged, user] = first["messages"]
    assert merged["role"] == "system"
    assert merged["content"].startswith("You are terse.\n\n")
    assert schema_instruction(Person) in merged["content"]
    assert user == USER[0]
    assert second["messages"][:2] == first["messages"]
    assistant, repair = second["messages"][2:]
    assert assistant == {"role": "assistant", "content": bad}
    assert repair["role"] == "user"
    assert "age: Input should be a valid integer" in repair["content"]
    assert "(got 'thirty-six')" in repair["content"]


async def test_repair_in_json_schema_mode_keeps_response_format() -> None:
    recorder = Recording(Cycle(['{"name": "Ada"', GOOD]))
    with FakeLLMServer(recorder) as srv:
        async with AsyncOpenAIClient(base_url=srv.base_url, api_key="k") as client:
            await query_structured(client, messages=USER, model="m", schema=Person)
    first, second = recorder.bodies
    assert first["response_format"] == second["response_format"]
    assert "truncated" in second["messages"][-1]["content"]


@pytest.mark.parametrize("max_repairs", [0, 1, 3])
async def test_repairs_exhausted(max_repairs: int) -> None:
    answers = [f'{{"name": "Ada", "age": "v{i}"}}' for i in range(max_repairs + 1)]
    recorder = Recording(Cycle(answers))
    with FakeLLMServer(recorder) as srv:
        async with AsyncOpenAIClient(base_url=srv.base_url, api_key="k") as client:
            with pytest.raises(ResponseParseError) as info:
                await query_structured(
                    client, messages=USER, model="m", schema=Person, mode="prompt", max_repairs=max_repairs
                )
    assert len(recorder.bodies) == max_repairs + 1
    assert info.value.raw == answers[-1]
    message = str(info.value)
    assert message.startswith(f"no valid Person after {max_repairs + 1} answer(s): the JSON does not match Person")
    assert isinstance(info.value.__cause__, ResponseParseError)
    # every repair conversation carries all earlier answers
    assert [m["content"] for m in recorder.bodies[-1]["messages"] if m["role"] == "assistant"] == answers[:-1]


async def test_non_json_answer_is_repaired(server: FakeLLMServer, recorder: Recording) -> None:
    recorder.inner = Cycle(["I'm sorry, I can't do that.", GOOD])
    async with AsyncOpenAIClient(base_url=server.base_url, api_key="k") as client:
        await query_structured(client, messages=USER, model="m", schema=Person, mode="prompt")
    assert "no JSON object or array found" in recorder.bodies[1]["messages"][-1]["content"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "grammar"}, "mode"),
        ({"max_repairs": -1}, "max_repairs"),
        ({"max_repairs": True}, "max_repairs"),
        ({"schema": dict}, "schema"),
        ({"response_format": {"type": "json_object"}}, "response_format"),
        ({"n": 2}, "n must be 1"),
    ],
)
async def test_config_errors(server: FakeLLMServer, kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"messages": USER, "model": "m", "schema": Person, **kwargs}
    async with AsyncOpenAIClient(base_url=server.base_url, api_key="k") as client:
        with pytest.raises(ConfigError, match=message):
            await query_structured(client, **arguments)
    assert server.stats()["requests"] == 0


# -------------------------------------------------------------------------------------- response_format_for
class Address(BaseModel):
    city: str
    zip_code: str | None = None


class Customer(BaseModel):
    name: str = Field(description="full name")
    home: Address = Field(description="where they live")
    work: Address | None = None
    tags: list[str] = []


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]


def test_response_format_strict_schema() -> None:
    fmt = response_format_for(Customer)
    schema = fmt["json_schema"]["schema"]
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["name", "home", "work", "tags"]
    home = schema["properties"]["home"]
    assert "$ref" not in home  # a $ref with a sibling description is inlined
    assert home["description"] == "where they live"
    assert home["required"] == ["city", "zip_code"]
    assert home["additionalProperties"] is False
    assert "default" not in schema["properties"]["work"]  # default: null is not allowed in strict mode
    address = schema["$defs"]["Address"]
    assert address["additionalProperties"] is False
    assert address["required"] == ["city", "zip_code"]
    assert "default" not in address["properties"]["zip_code"]
    assert schema["properties"]["tags"]["default"] == []


def test_response_format_name_and_loose_mode() -> None:
    assert response_format_for(Page[int])["json_schema"]["name"] == "Page_int_"
    loose = response_format_for(Customer, strict=False)["json_schema"]
    assert loose["strict"] is False
    assert loose["schema"] == Customer.model_json_schema()
    assert Customer.model_json_schema().get("additionalProperties") is None  # the model's schema is untouched

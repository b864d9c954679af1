"""Promise 1: property-based fuzzing of the whole API from its own OpenAPI document.

Every operation gets a fixed budget of generated requests (valid and invalid, with a
deterministic seed), sent without a token and with a valid token of a fresh user. No
response may be a 5xx, and every response must match the documented status codes,
content types, headers and body schemas.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# Generated requests per operation; raise it for a deeper run, e.g.
# PAPERFEED_FUZZ_EXAMPLES=300 python -m pytest tests/reliability/test_fuzz.py
MAX_EXAMPLES = int(os.environ.get("PAPERFEED_FUZZ_EXAMPLES", "25"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


@pytest.fixture
def fuzz_app(redis_url, redis_client, tmp_path):
    """The app with its rate limits on (their code runs) but raised out of the fuzzer's reach."""
    from backend import create_app

    return create_app({"TESTING": True, "REDIS_URL": redis_url, "DATA_DIR": str(tmp_path),
                       "RATELIMIT_ENABLED": True, "RATELIMIT_REGISTER": "1000000/hour",
                       "RATELIMIT_EVENTS": "1000000/minute",
                       "RATELIMIT_EVENTS_PER_IP": "1000000/minute"})


@pytest.fixture
def api_schema(fuzz_app):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", fuzz_app)
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case, fuzz_app):
    # As sent by the generator (no token, or whatever header it made up).
    case.call_and_validate(checks=CHECKS)
    if case.operation.definition.raw.get("security"):
        token = fuzz_app.test_client().post("/v1/users").get_json()["token"]
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        case.call_and_validate(checks=[*CHECKS, negative_data_rejection])

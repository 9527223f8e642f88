"""Schemathesis' property-based run against ``/api/v1/openapi.json`` (issue 15): every operation,
with generated valid and invalid inputs (schemathesis' positive and negative modes) and a token
that holds every scope, gets no 5xx, only documented status codes and content types, and bodies
that match the document's schemas. Seeded (``derandomize``): the same examples every run.

Driven from a plain test (one app and database per run) rather than schemathesis' pytest plugin,
whose fixture loader does not run under this pytest."""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .api_world import bearer, build_api_world, token

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 40  # per operation and mode


def _exercise(operation, headers: dict, calls: dict[str, set[int]], mode=GenerationMode.POSITIVE,
              path_parameters: dict | None = None) -> None:
    @given(case=operation.as_strategy(mode, path_parameters=path_parameters))
    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case):
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        calls.setdefault(operation.label, set()).add(response.status_code)

    run()


def test_api_conforms_to_its_document(app, ctx, session, make_org, make_record):
    from portal.services import api_clients

    world = build_api_world(ctx, session, make_org, make_record)
    _, secret = api_clients.create_client(ctx, "all.scopes", name="全权限测试客户端", purpose="接口一致性测试",
                                          scopes=["records:read:public", "records:read:shared", "records:write",
                                                  "feed:read"], authority="长沙市卫生健康委员会",
                                          rate_limit="100000/minute")
    session.commit()
    world.secrets["all.scopes"] = secret
    auth = bearer(token(app.test_client(), world, "all.scopes"))
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 11  # every operation of the document is exercised
    calls: dict[str, set[int]] = {}
    known = {"code": world.org.credit_code, "record_id": world.public_record.lineage_id}
    for operation in operations:
        headers = {} if operation.path in ("/token", "/feed/key") else auth
        _exercise(operation, headers, calls)
        if any(len(group) for group in (operation.path_parameters, operation.query, operation.headers,
                                        operation.body)):  # nothing to break in an operation without input
            _exercise(operation, headers, calls, GenerationMode.NEGATIVE)
        pinned = {p.name: known[p.name] for p in operation.path_parameters if p.name in known}
        if pinned:  # a subject and a record that exist: the generated queries and bodies reach the verbs
            _exercise(operation, headers, calls, path_parameters=pinned)
    assert set(calls) == {op.label for op in operations}
    print({label: sorted(codes) for label, codes in calls.items()})

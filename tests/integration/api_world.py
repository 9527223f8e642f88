"""A small world for the sharing API's tests: three department clients of different scopes,
subjects inside and outside their region, and records of every disclosure scope with canaries
in the non-public ones."""
from __future__ import annotations

import base64
from dataclasses import dataclass, field

SHARED_CANARY = "SHARED-CANARY-7f3e 政务共享：医保基金核查线索"
ONREQ_CANARY = "ONREQ-CANARY-91ab 申请查询的信息"
PUBLIC_TITLE = "公开处罚：未按规定公示医疗服务价格"
UNIT = "长沙市卫生健康委员会"
PURPOSE = "医保基金监管：定点医疗机构信用核查"


@dataclass
class ApiWorld:
    org: object
    far: object
    public_record: object
    shared_record: object
    onreq_record: object
    secrets: dict[str, str] = field(default_factory=dict)
    clients: dict[str, object] = field(default_factory=dict)


def build_api_world(ctx, session, make_org, make_record) -> ApiWorld:
    from portal.services import api_clients

    org = make_org(name="长沙市某某医院", region_code="430102")
    far = make_org(name="株洲市某某药房", region_code="430202", category="pharmacy")
    public = make_record(org, title=PUBLIC_TITLE, authority=UNIT)
    shared = make_record(org, title=SHARED_CANARY, scope="shared", authority=UNIT)
    onreq = make_record(org, title=ONREQ_CANARY, scope="on_request", authority=UNIT)
    make_record(far, title="株洲公开处罚", authority="株洲市卫生健康委员会")
    world = ApiWorld(org=org, far=far, public_record=public, shared_record=shared, onreq_record=onreq)
    specs = {
        # a public-facing department: public reads only, whole jurisdiction
        "pub.dept": dict(name="湖南省市场监督管理局", purpose="企业信用监管：公开信息比对",
                         scopes=["records:read:public"]),
        # a sharing partner in 长沙: public and 政务共享 reads
        "share.cs": dict(name="长沙市医疗保障局", purpose=PURPOSE, region_code="430100",
                         scopes=["records:read:public", "records:read:shared"]),
        # a providing unit in 长沙: writes its own records, pulls the feed
        "write.cs": dict(name=UNIT, purpose="报送本单位认定的信用信息", region_code="430100", authority=UNIT,
                         scopes=["records:read:public", "records:write", "feed:read"]),
    }
    for client_id, spec in specs.items():
        client, secret = api_clients.create_client(ctx, client_id, **spec)
        world.clients[client_id] = client
        world.secrets[client_id] = secret
    session.commit()
    return world


def basic(client_id: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def token(api, world: ApiWorld, client_id: str, scope: str | None = None) -> str:
    data = {"grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    resp = api.post("/api/v1/token", data=data, headers=basic(client_id, world.secrets[client_id]))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()["access_token"]


def bearer(value: str) -> dict:
    return {"Authorization": f"Bearer {value}"}

"""Settings forms come from a connector's marshmallow schema: a new connector needs no UI code."""

from __future__ import annotations

from marshmallow import Schema, fields, validate
from werkzeug.datastructures import MultiDict

from ledgerbridge_webui.forms import form_fields, read_form


class ThirdPartySettings(Schema):
    """What an imagined ``acme`` connector asks for."""

    region = fields.String(load_default="eu", validate=validate.OneOf(["eu", "us"]))
    api_key = fields.String(required=True, metadata={"secret": True, "label": "API key"})
    sandbox = fields.Boolean(load_default=False, metadata={"help": "Use the test system"})
    notify = fields.Boolean(load_default=None, allow_none=True)
    batch = fields.Integer(load_default=50)
    endpoint = fields.Url(load_default="https://api.acme.example")
    accounts = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    tags = fields.List(fields.String(), load_default=list)
    note = fields.String(load_default="")


def test_every_field_kind_becomes_an_input():
    inputs = {
        f.name: f
        for f in form_fields(
            ThirdPartySettings,
            {"region": "us", "accounts": {"stripe": "1580"}, "tags": ["a", "b"]},
            {"api_key": "••••9xyz"},
            {"batch": ["Not a valid integer."]},
        )
    }
    assert inputs["region"].kind == "select" and inputs["region"].choices == ["eu", "us"]
    assert inputs["region"].value == "us"
    assert inputs["api_key"].kind == "password" and inputs["api_key"].value is None
    assert inputs["api_key"].masked == "••••9xyz" and inputs["api_key"].label == "API key"
    assert inputs["sandbox"].kind == "checkbox" and inputs["sandbox"].help == "Use the test system"
    assert inputs["notify"].kind == "tristate"
    assert inputs["batch"].kind == "number" and inputs["batch"].errors == ["Not a valid integer."]
    assert inputs["accounts"].kind == "mapping" and inputs["accounts"].rows[0] == ("stripe", "1580")
    assert inputs["tags"].value == "a, b"
    assert inputs["note"].kind == "text"


def test_submitted_values_are_read_back_into_settings_and_secrets():
    form = MultiDict(
        [
            ("x-region", "us"),
            ("x-api_key", "  "),  # empty: keep the stored secret
            ("x-notify", "false"),
            ("x-batch", ""),  # empty number: the default
            ("x-endpoint", ""),
            ("x-accounts-key", "stripe"),
            ("x-accounts-value", "1580"),
            ("x-accounts-key", ""),
            ("x-accounts-value", ""),
            ("x-tags", "a, b,,"),
            ("x-note", "hej"),
        ]
    )
    settings, secrets = read_form(ThirdPartySettings, form, "x-")
    assert secrets == {}
    assert settings == {
        "region": "us",
        "sandbox": False,
        "notify": False,
        "accounts": {"stripe": "1580"},
        "tags": ["a", "b"],
        "note": "hej",
    }
    _settings, secrets = read_form(ThirdPartySettings, MultiDict([("x-api_key", "k-123")]), "x-")
    assert secrets == {"api_key": "k-123"}

"""The token mixin declares what it reads of the transport (for the type checker); the transport
must set every one of those attributes, or a token request fails at run time on a missing one."""

from __future__ import annotations

import requests

from informat_client import InformatConfig
from informat_client.tokens import Tokens
from informat_client.transport import Transport


def _missing(instance: object) -> list[str]:
    """The attributes ``Tokens`` declares that ``instance`` lacks."""
    return [name for name in Tokens.__annotations__ if not hasattr(instance, name)]


def test_a_transport_sets_every_attribute_the_token_mixin_declares():
    config = InformatConfig(client_id="id", client_secret="client-secret-value")
    with Transport(config, session=requests.Session()) as transport:
        assert _missing(transport) == []


def test_the_check_finds_an_attribute_a_transport_does_not_set():
    # control: a mixin user that sets nothing lacks every declared attribute
    assert Tokens.__annotations__
    assert _missing(Tokens()) == list(Tokens.__annotations__)

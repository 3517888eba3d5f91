"""``omni serve`` refuses what it must refuse before loading any model."""

from __future__ import annotations

from tests.cli.omni_cli import assert_clean_failure, run_omni


def test_listening_beyond_loopback_needs_an_api_key() -> None:
    result = run_omni("serve", "--host", "0.0.0.0", "--port", "0", timeout=60)
    assert_clean_failure(result, "refusing to listen on 0.0.0.0 without an API key", "--api-key")
    assert "loading models" not in result.stderr


def test_an_impossible_port_is_named() -> None:
    assert_clean_failure(run_omni("serve", "--port", "70000", timeout=60), "server.port")

"""Every package's errors reach the user the same way: one line on stderr, exit status 2."""

from __future__ import annotations

import pytest

from bench import cli
from bench._exceptions import HarnessError
from flags_server import AdminError, ConfigError, ServerStartError
from strategies import StrategyError, UnknownStrategy


@pytest.mark.parametrize(
    "error",
    [
        HarnessError("the flag server did not start"),
        ConfigError("latency='fast' is not allowed"),
        ServerStartError("flags_server did not start: no output within 30 s"),
        AdminError("GET http://127.0.0.1:1/_stats: connection refused"),
        StrategyError("strategy 'x' (x:X) failed to load: ImportError: no"),
        UnknownStrategy("x", ["sequential"]),
    ],
)
def test_main_turns_each_packages_base_error_into_one_line(monkeypatch, capsys, error):
    def fail(args: object) -> int:
        raise error

    monkeypatch.setattr(cli.listing, "command", fail)
    assert cli.main(["list"]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"flagbench: error: {error}\n"
    assert captured.out == ""


def test_a_message_over_several_lines_still_prints_as_one(monkeypatch, capsys):
    def fail(args: object) -> int:
        raise StrategyError("first\n  second\n")

    monkeypatch.setattr(cli.listing, "command", fail)
    assert cli.main(["list"]) == 2
    assert capsys.readouterr().err == "flagbench: error: first; second\n"


def test_a_server_setting_the_child_refuses_is_one_line(tmp_path, run_cli):
    suite = tmp_path / "zip.toml"
    suite.write_text(
        '[suite]\nname = "zip"\nstrategies = ["asyncio"]\n'
        '[server]\nflags_zip = "/nonexistent/flags.zip"\n'
    )
    proc = run_cli("suite", str(suite), "--out", str(tmp_path / "r"))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("flagbench: error: flags_zip '/nonexistent/flags.zip' cannot be read")
    assert not (tmp_path / "r").exists()  # the server is started before anything is written

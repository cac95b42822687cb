"""The training-state fingerprint covers the project's code: a state from other code is not resumed."""

import sys
import types

from wsss.train.model_training import project_code_digest


def test_code_digest_follows_the_imported_stage_source(tmp_path, monkeypatch):
    stage = tmp_path / "probe.py"
    stage.write_text("STEP = 1\n")
    module = types.ModuleType("stages.digest_probe")
    module.__file__ = str(stage)
    monkeypatch.setitem(sys.modules, "stages.digest_probe", module)
    before = project_code_digest()
    assert project_code_digest() == before  # the same code gives the same digest
    stage.write_text("STEP = 2\n")
    assert project_code_digest() != before
    monkeypatch.delitem(sys.modules, "stages.digest_probe")
    stage.write_text("STEP = 1\n")
    assert project_code_digest() != before  # a stage module that is no longer imported no longer counts

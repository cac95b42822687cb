import pytest

from wsss.config import PrepareParams, from_dict
from wsss.errors import ConfigError


def test_nested_sections_and_defaults():
    p = from_dict(PrepareParams, {"source": "demo", "demo": {"seed": 3, "num_train": 10}})
    assert p.demo.seed == 3 and p.demo.num_train == 10 and p.demo.num_val == 120


def test_unknown_key_is_an_error():
    with pytest.raises(ConfigError, match=r"demo.*unknown keys \['sede'\]"):
        from_dict(PrepareParams, {"demo": {"sede": 3}})


def test_wrong_type_is_an_error():
    with pytest.raises(ConfigError, match="num_train"):
        from_dict(PrepareParams, {"demo": {"num_train": "many"}})
    with pytest.raises(ConfigError, match="seed"):
        from_dict(PrepareParams, {"demo": {"seed": True}})


def test_params_yaml_matches_dataclasses():
    """Every section of the repository's params.yaml loads strictly."""
    from pathlib import Path

    import yaml

    from wsss import config

    document = yaml.safe_load((Path(__file__).parents[1] / "params.yaml").read_text())
    sections = {
        "prepare": config.PrepareParams, "infer_cam": config.InferCamParams, "eval_cam": config.EvalCamParams,
        "crf": config.CrfStageParams, "train_aff": config.TrainAffParams, "random_walk": config.RandomWalkParams,
        "eval_dcrf": config.EvalLabelsParams, "eval_rw": config.EvalLabelsParams,
        "train_seg": config.TrainSegParams, "infer_seg": config.InferSegParams, "eval_seg": config.EvalLabelsParams,
        "train_mcis": config.TrainMcisParams, "localise_mcis": config.LocaliseMcisParams,
        "mcis_labels": config.McisLabelsParams, "eval_mcis_labels": config.EvalLabelsParams,
    }
    for name, cls in sections.items():
        from_dict(cls, document[name], where=name)
    for method, section in document["train_cls"].items():
        assert from_dict(config.TrainClsParams, section).method == method
    assert set(document) == set(sections) | {"train_cls"}

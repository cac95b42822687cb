import pytest

from wsss.config import InferSegParams, PrepareParams, from_dict
from wsss.errors import ConfigError
from wsss.params.seam import InferCamParams, TrainClsParams


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

    from wsss.params.seam import TrainClsParams
    from wsss.params.sections import PARAMS_SECTIONS

    document = yaml.safe_load((Path(__file__).parents[1] / "params.yaml").read_text())
    sections = {k: v for k, v in PARAMS_SECTIONS.items() if k != "train_cls"}
    for name, cls in sections.items():
        from_dict(cls, document[name], where=name)
    for method, section in document["train_cls"].items():
        assert from_dict(TrainClsParams, section).method == method
    assert set(document) == set(sections) | {"train_cls"}


def test_getam_defaults_are_the_reference_code():
    from wsss.params import getam

    p = getam.TrainGetamParams()
    assert (p.encoder, p.crop, p.resize_long, p.engine.batch_size, p.engine.epochs, p.cls_epochs) == \
        ("vit_b_r50", 256, [230, 292], 4, 20, 10)
    assert (p.engine.optim.lr, p.engine.optim.momentum, p.engine.optim.weight_decay) == (0.04, 5e-4, 0.0)
    assert p.seg_lr_scale == 0.1
    maps, completion = getam.LocaliseGetamParams().maps, getam.GetamLabelsParams().completion  # also training's
    assert maps.start_block == 6 and maps.pamr_dilations == [1, 2, 4, 8, 12, 24] and maps.pamr_iterations == 10
    assert (completion.gamma, completion.percentile, completion.opening) == (32.0, 0.9, 10)


@pytest.mark.parametrize("section, cls, data, message", [
    ("infer_cam", InferCamParams, {"precision": "fp16"}, r"infer_cam\.precision: 'fp16' is not one of auto, fp32, bf16"),
    ("infer_cam", InferCamParams, {"normalisation": "softmax"}, r"infer_cam\.normalisation: 'softmax' is not one of"),
    ("infer_seg", InferSegParams, {"average": "median"}, r"infer_seg\.average: 'median'"),
    ("infer_seg", InferSegParams, {"crf": "fast"}, r"infer_seg\.crf: 'fast'"),
    ("train_cls", TrainClsParams, {"method": "irn"}, r"train_cls\.method: 'irn'"),
    ("train_cls", TrainClsParams, {"engine": {"optim": {"schedule": "cosine"}}}, r"train_cls\.engine\.optim\.schedule: 'cosine'"),
    ("train_cls", TrainClsParams, {"engine": {"precision": True}}, r"train_cls\.engine\.precision: True"),
])
def test_every_option_string_is_checked_when_params_load(section, cls, data, message):
    with pytest.raises(ConfigError, match=message) as error:
        from_dict(cls, data, where=section)
    assert "\n" not in str(error.value)


def test_device_strings_are_checked():
    from wsss.params.seam import RandomWalkParams

    assert from_dict(RandomWalkParams, {"device": "cuda:1"}).device == "cuda:1"
    with pytest.raises(ConfigError, match=r"random_walk\.device: 'gpu' is not one of auto, cpu, cuda, cuda:N"):
        from_dict(RandomWalkParams, {"device": "gpu"}, where="random_walk")


@pytest.mark.parametrize("section, cls, data, key, allowed", [
    ("train_cls.seam", "TrainClsParams", {"engine": {"epochs": -1}}, "engine.epochs", ">= 1"),
    ("train_cls.seam", "TrainClsParams", {"engine": {"batch_size": -4}}, "engine.batch_size", ">= 1"),
    ("train_seg", "TrainSegParams", {"engine": {"optim": {"lr": -0.1}}}, "engine.optim.lr", "> 0"),
    ("train_seg", "TrainSegParams", {"crop": -160}, "crop", ">= 16"),
    ("infer_cam", "InferCamParams", {"scales": [1.0, -1.0]}, "scales[1]", "> 0"),
    ("sal_labels", "SalientCamLabelsParams", {"foreground": 1.5}, "foreground", "[0, 1]"),
    ("train_cls.seam", "TrainClsParams", {"seam": {"scale": 1.0}}, "seam.scale", "(0, 1)"),
    ("prepare", "PrepareParams", {"voc": {"holdout": 1.0}}, "voc.holdout", "[0, 1)"),
])
def test_values_out_of_range_are_one_line_naming_key_and_range(section, cls, data, key, allowed):
    from wsss.params.sections import PARAMS_SECTIONS

    by_name = {section_cls.__name__: section_cls for section_cls in PARAMS_SECTIONS.values()}
    with pytest.raises(ConfigError) as error:
        from_dict(by_name[cls], data, where=f"params.yaml:{section}")
    assert str(error.value).startswith(f"params.yaml:{section}.{key}: ")
    assert str(error.value).endswith(f"(allowed: {allowed})") and "\n" not in str(error.value)


def test_ranges_hold_for_code_built_params_and_every_default():
    from wsss import config
    from wsss.params.sections import PARAMS_SECTIONS

    for cls in {c for c in PARAMS_SECTIONS.values()}:
        cls()   # every default is inside its range
    with pytest.raises(config.RangeError, match=r"^scales\[0\]: 0.0 is out of range"):
        config.InferSegParams(scales=[0.0])
    with pytest.raises(config.RangeError, match=r"^epochs: 0 "):
        config.EngineConfig(epochs=0)
    config.OptimConfig(lr=1e-6, momentum=0.0)   # bounds themselves: open at lr 0, closed at momentum 0


def test_recipe_checks_the_merged_params_before_writing(tmp_path):
    from pathlib import Path

    from wsss.recipe import apply_recipe

    params = tmp_path / "params.yaml"
    params.write_text((Path(__file__).parents[1] / "params.yaml").read_text())
    before = params.read_bytes()
    for bad, message in [("infer_cam.precision=fp16", "'fp16' is not one of"),
                         ("train_cls.seam.engine.epochs=-1", "epochs: -1 is out of range"),
                         ("train_seg.engine.optim.lr=0", "train_seg.engine.optim.lr: 0.0 is out of range")]:
        with pytest.raises(ConfigError, match=message):
            apply_recipe(params, None, [bad])
        assert params.read_bytes() == before
    assert apply_recipe(params, None, ["train_cls.seam.engine.epochs=3"]) == ["train_cls.seam.engine.epochs"]

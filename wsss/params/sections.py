"""The whole params document: every section's dataclass (all methods), and a check that builds them
all. Only whole-document readers import this (recipes, the report, ``wsss check``); a stage imports
its own section's module, so it does not depend on other methods' params.
"""

from __future__ import annotations

import dataclasses

from wsss.config import (
    EngineConfig,
    EvalCamParams,
    EvalLabelsParams,
    InferSegParams,
    LaunchParams,
    McisLabelsParams,
    PrepareParams,
    SaliencyParams,
    SalientCamLabelsParams,
    TrainSegParams,
    from_dict,
    with_shared_engine,
)
from wsss.errors import ConfigError
from wsss.params.getam import GetamLabelsParams, LocaliseGetamParams, TrainGetamParams
from wsss.params.mcis import LocaliseMcisParams, TrainMcisParams
from wsss.params.seam import (
    CrfStageParams,
    InferCamParams,
    RandomWalkParams,
    TrainAffParams,
    TrainClsParams,
)

# params.yaml section → its dataclass (train_cls holds one TrainClsParams per method).
PARAMS_SECTIONS: dict[str, type] = {
    "launch": LaunchParams, "engine": EngineConfig, "prepare": PrepareParams, "saliency": SaliencyParams, "infer_cam": InferCamParams, "eval_cam": EvalCamParams,
    "crf": CrfStageParams, "train_aff": TrainAffParams, "random_walk": RandomWalkParams,
    "eval_dcrf": EvalLabelsParams, "eval_rw": EvalLabelsParams,
    "train_seg": TrainSegParams, "infer_seg": InferSegParams, "eval_seg": EvalLabelsParams,
    "train_mcis": TrainMcisParams, "localise_mcis": LocaliseMcisParams,
    "mcis_labels": McisLabelsParams, "sal_labels": SalientCamLabelsParams, "eval_sal": EvalLabelsParams, "eval_mcis_labels": EvalLabelsParams,
    "train_getam": TrainGetamParams, "localise_getam": LocaliseGetamParams,
    "getam_labels": GetamLabelsParams, "eval_getam_labels": EvalLabelsParams,
    "infer_getam": InferSegParams, "train_cls": TrainClsParams,
}


def check_params_document(document: dict, where: str = "params.yaml") -> None:
    """Build every section of a whole params document as the stages would (types and ranges); the
    first bad value raises ConfigError naming its key."""
    if not isinstance(document, dict):
        raise ConfigError(f"{where}: expected a mapping of sections")
    shared = document.get("engine")
    for name, cls in PARAMS_SECTIONS.items():
        if name not in document:
            continue
        section = document[name]
        entries = section.items() if name == "train_cls" and isinstance(section, dict) else [(None, section)]
        for key, entry in entries:
            if any(f.name == "engine" for f in dataclasses.fields(cls)) and name != "engine":
                entry = with_shared_engine(entry, shared)
            from_dict(cls, entry, where=f"{where}:{name}" + (f".{key}" if key else ""))

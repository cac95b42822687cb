"""Exceptions with messages that name the offending file and what is wrong with it."""


class WsssError(Exception):
    """Base class of every error the library raises on purpose."""


class DataError(WsssError):
    """A dataset file or folder is missing, unreadable or inconsistent."""


class ConfigError(WsssError):
    """A params section has unknown keys, missing keys or values of the wrong type."""


class CheckpointError(WsssError):
    """A checkpoint does not exist, is not a wsss checkpoint, or does not fit the model."""


def import_pipeline_package(name: str, purpose: str):
    """Module ``name`` from the ``pipeline`` extra (DVC, dvclive, vl-convert), which the library alone
    does not install; missing, it is one line saying what needs it and how to install it."""
    import importlib

    try:
        return importlib.import_module(name)
    except ModuleNotFoundError:
        raise WsssError(f"{purpose} needs the {name} package: pip install 'wsss[pipeline]'") from None

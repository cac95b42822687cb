"""Thin DVC entry points: each reads one params.yaml section, calls the wsss library, writes outputs."""

"""Vidi's model side: media decoding, model backends, the conversation store and the CLI. Imports no Qt."""

from core_model.no_hub_code import refuse_hub_kernels

__version__ = "0.1.0"

refuse_hub_kernels()  # no code from the hub, ever (bitsandbytes would fetch kernels through `kernels`)

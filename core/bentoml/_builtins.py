"""What the kernel registers itself, through the same hooks as any plugin."""
from bentoml.adapters.json_output import JsonOutput
from bentoml.hookspecs import hookimpl


@hookimpl
def register_output_adapters(register):
    register(JsonOutput)

"""What the kernel registers itself, through the same hooks as any plugin."""
from bentoml.adapters.json_output import JsonOutput
from bentoml.hookspecs import hookimpl


@hookimpl
def register_output_adapters(register):
    register(JsonOutput)
    # BentoML 0.10-0.13 names of the same adapter: `output=DefaultOutput()` keeps working.
    register(JsonOutput, name="DefaultOutput", legacy_paths=("bentoml.adapters.default_output",))
    register(JsonOutput, name="JsonSerializableOutput")

"""`bentoml ...` of BentoML 0.8.6, with its two gunicorn servers bound to 127.0.0.1.

0.8.6 hard-codes bind 0.0.0.0 for both the marshal (micro-batching proxy) and the
model server; the benchmark only ever listens on loopback, so rebind after gunicorn
loads its config. Usage: python bentoml086_serve.py serve-gunicorn BUNDLE --enable-microbatch ...
"""
import sys

from bentoml.server.gunicorn_server import GunicornBentoServer
from bentoml.server.marshal_server import GunicornMarshalServer


def _loopback(cls):
    orig = cls.load_config

    def load_config(self):
        orig(self)
        self.cfg.set("bind", "127.0.0.1:%s" % self.port)

    cls.load_config = load_config


_loopback(GunicornBentoServer)
_loopback(GunicornMarshalServer)

if __name__ == "__main__":
    from bentoml.cli import cli

    sys.argv[0] = "bentoml"
    sys.exit(cli())

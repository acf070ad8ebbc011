"""``python -m bentoml``: the ``bentoml`` command with this interpreter."""
from bentoml.cli import main

if __name__ == "__main__":
    main()

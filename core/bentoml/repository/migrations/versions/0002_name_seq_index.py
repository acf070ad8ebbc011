"""An index on (name, seq): a name's newest versions without sorting all of them.

``NAME:latest`` and ``bentoml list --name NAME`` ask for one name's ready rows
newest first; the unique (name, version) index finds the rows but not in that
order, so a name with many versions was sorted on every request.
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``ix_bentoml_bundles_name_seq``."""
    op.create_index("ix_bentoml_bundles_name_seq", "bentoml_bundles", ["name", "seq"])


def downgrade() -> None:
    """Drop ``ix_bentoml_bundles_name_seq``."""
    op.drop_index("ix_bentoml_bundles_name_seq", table_name="bentoml_bundles")

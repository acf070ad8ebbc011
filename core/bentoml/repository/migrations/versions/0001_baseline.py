"""The baseline: the schema of bentoml before Alembic, created where it is missing.

A database made before Alembic holds exactly these tables and is stamped with
this revision instead (:func:`bentoml.repository.migrations.upgrade`).  The
tables are written out here as they were then, not taken from
``bentoml.repository.metadata``, which follows the newest revision.
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _tables(md: sa.MetaData):
    meta = sa.Table(
        "bentoml_meta", md,
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(256), nullable=False),
    )
    bundles = sa.Table(
        "bentoml_bundles", md,
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("version", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("uri", sa.Text, nullable=False),
        sa.Column("uri_type", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner", sa.String(256), nullable=False),
        sa.Column("bundle_config", sa.Text, nullable=False),
        sa.UniqueConstraint("name", "version", name="uq_bundle_name_version"),
    )
    return meta, bundles


def upgrade() -> None:
    """Create the tables that are missing and mark the database as bentoml's."""
    md = sa.MetaData()
    meta, _bundles = _tables(md)
    # checkfirst: part of this schema may be there, left by a bentoml killed while creating it
    # (before the schema was made in one transaction)
    md.create_all(op.get_bind(), checkfirst=True)
    op.execute(meta.delete())
    op.bulk_insert(meta, [{"key": "application", "value": "bentoml-kernel"},
                          {"key": "schema_version", "value": "1"}])


def downgrade() -> None:
    """Drop the tables (every bundle's metadata with them)."""
    op.drop_table("bentoml_bundles")
    op.drop_table("bentoml_meta")

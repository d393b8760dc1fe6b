"""search index: search_entry and search_entry_text, with FTS5 on SQLite and a generated tsvector + GIN on PostgreSQL

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-28 10:00:00.000000
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

TSV = ("setweight(to_tsvector('simple'::regconfig, title_tokens), 'A'::\"char\") || "
       "to_tsvector('simple'::regconfig, tokens)")
TITLE_TSV = "to_tsvector('simple'::regconfig, title_tokens)"

# External-content FTS5 over the token columns; the triggers keep it in step with search_entry_text,
# deletes included (FTS5 needs the old tokens to forget a row). unicode61 splits on the spaces between
# our tokens.
SQLITE_UP = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(title_tokens, tokens, content='search_entry_text', "
    "content_rowid='entry_id', tokenize='unicode61')",
    "CREATE TRIGGER search_entry_text_ai AFTER INSERT ON search_entry_text BEGIN "
    "INSERT INTO search_fts(rowid, title_tokens, tokens) VALUES (new.entry_id, new.title_tokens, new.tokens); END",
    "CREATE TRIGGER search_entry_text_ad AFTER DELETE ON search_entry_text BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title_tokens, tokens) "
    "VALUES ('delete', old.entry_id, old.title_tokens, old.tokens); END",
    "CREATE TRIGGER search_entry_text_au AFTER UPDATE ON search_entry_text BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title_tokens, tokens) "
    "VALUES ('delete', old.entry_id, old.title_tokens, old.tokens); "
    "INSERT INTO search_fts(rowid, title_tokens, tokens) VALUES (new.entry_id, new.title_tokens, new.tokens); END",
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS search_entry_text_au", "DROP TRIGGER IF EXISTS search_entry_text_ad",
               "DROP TRIGGER IF EXISTS search_entry_text_ai", "DROP TABLE IF EXISTS search_fts"]


def upgrade() -> None:
    op.create_table('search_entry',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('ref', sa.String(length=200), nullable=False),
    sa.Column('owner', sa.String(length=150), nullable=False),
    sa.Column('folder_id', sa.BigInteger(), nullable=True),
    sa.Column('scope', sa.String(length=200), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('indexed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_entry')),
    sa.UniqueConstraint('kind', 'ref', name='uq_search_entry_kind_ref')
    )
    with op.batch_alter_table('search_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_entry_folder_id'), ['folder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_entry_owner'), ['owner'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_entry_scope'), ['scope'], unique=False)
        batch_op.create_index('ix_search_entry_updated_at', ['updated_at'], unique=False)

    op.create_table('search_entry_text',
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('snippet_source', sa.Text(), nullable=False),
    sa.Column('token_count', sa.Integer(), nullable=False),
    sa.Column('title_tokens', sa.Text(), nullable=False),
    sa.Column('tokens', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['search_entry.id'], name=op.f('fk_search_entry_text_entry_id_search_entry'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id', name=op.f('pk_search_entry_text'))
    )

    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"ALTER TABLE search_entry_text ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS ({TSV}) STORED")
        op.execute(f"ALTER TABLE search_entry_text ADD COLUMN title_tsv tsvector "
                   f"GENERATED ALWAYS AS ({TITLE_TSV}) STORED")
        op.execute("CREATE INDEX ix_search_entry_text_search_tsv ON search_entry_text USING gin (search_tsv)")
    else:
        for statement in SQLITE_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        for statement in SQLITE_DOWN:
            op.execute(statement)
    op.drop_table('search_entry_text')
    op.drop_table('search_entry')

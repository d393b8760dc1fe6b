"""document library: libraries, folders (path, ancestors, acl root), permissions, documents, versions, links, recycle bin

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-27 18:39:27.619615
"""
import sqlalchemy as sa
from alembic import op


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('doc_blob_release',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_doc_blob_release'))
    )
    op.create_table('doc_library',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('owner', sa.String(length=150), nullable=True),
    sa.Column('quota_bytes', sa.BigInteger(), nullable=True),
    sa.Column('root_folder_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=150), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_doc_library_department_id_department'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_doc_library')),
    sa.UniqueConstraint('key', name=op.f('uq_doc_library_key'))
    )
    with op.batch_alter_table('doc_library', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_doc_library_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_doc_library_owner'), ['owner'], unique=False)

    op.create_table('doc_folder',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('library_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('name_key', sa.String(length=255), nullable=False),
    sa.Column('path', sa.String(length=2000), nullable=False),
    sa.Column('depth', sa.Integer(), nullable=False),
    sa.Column('inherit', sa.Boolean(), nullable=False),
    sa.Column('acl_root_id', sa.BigInteger(), nullable=True),
    sa.Column('created_by', sa.String(length=150), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_by', sa.String(length=150), nullable=True),
    sa.Column('trash_id', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['library_id'], ['doc_library.id'], name=op.f('fk_doc_folder_library_id_doc_library')),
    sa.ForeignKeyConstraint(['parent_id'], ['doc_folder.id'], name=op.f('fk_doc_folder_parent_id_doc_folder'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_doc_folder'))
    )
    with op.batch_alter_table('doc_folder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_doc_folder_acl_root_id'), ['acl_root_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_doc_folder_library_id'), ['library_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_doc_folder_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_doc_folder_trash_id'), ['trash_id'], unique=False)
        batch_op.create_index('uq_doc_folder_live_name', ['parent_id', 'name_key'], unique=True, postgresql_where=sa.text('deleted_at IS NULL'), sqlite_where=sa.text('deleted_at IS NULL'))

    op.create_table('doc_folder_ancestor',
    sa.Column('folder_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ancestor_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['ancestor_id'], ['doc_folder.id'], name=op.f('fk_doc_folder_ancestor_ancestor_id_doc_folder'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['folder_id'], ['doc_folder.id'], name=op.f('fk_doc_folder_ancestor_folder_id_doc_folder'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('folder_id', 'ancestor_id', name=op.f('pk_doc_folder_ancestor'))
    )
    with op.batch_alter_table('doc_folder_ancestor', schema=None) as batch_op:
        batch_op.create_index('ix_doc_folder_ancestor_ancestor', ['ancestor_id', 'folder_id'], unique=False)

    op.create_table('doc_library_admin',
    sa.Column('library_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=150), nullable=False),
    sa.ForeignKeyConstraint(['library_id'], ['doc_library.id'], name=op.f('fk_doc_library_admin_library_id_doc_library'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('library_id', 'username', name=op.f('pk_doc_library_admin'))
    )
    with op.batch_alter_table('doc_library_admin', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_doc_library_admin_username'), ['username'], unique=False)

    op.create_table('doc_trash',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('library_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('item_id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('parent_id', sa.BigInteger(), nullable=False),
    sa.Column('deleted_by', sa.String(length=150), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['library_id'], ['doc_library.id'], name=op.f('fk_doc_trash_library_id_doc_library')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_doc_trash'))
    )
    with op.batch_alter_table('doc_trash', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_doc_trash_library_id'), ['library_id'], unique=False)

    op.create_table('doc_document',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('library_id', sa.Integer(), nullable=False),
    sa.Column('folder_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('name_key', sa.String(length=255), nullable=False),
    sa.Column('current_version_id', sa.BigInteger(), nullable=True),
    sa.Column('version_count', sa.Integer(), nullable=False),
    sa.Column('encrypted', sa.Boolean(), nullable=False),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.Column('locked_by', sa.String(length=150), nullable=True),
    sa.Column('locked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lock_reason', sa.String(length=500), nullable=False),
    sa.Column('created_by', sa.String(length=150), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=150), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_by', sa.String(length=150), nullable=True),
    sa.Column('trash_id', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['folder_id'], ['doc_folder.id'], name=op.f('fk_doc_document_folder_id_doc_folder')),
    sa.ForeignKeyConstraint(['library_id'], ['doc_library.id'], name=op.f('fk_doc_document_library_id_doc_library')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_doc_document'))
    )
    with op.batch_alter_table('doc_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_doc_document_folder_id'), ['folder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_doc_document_library_id'), ['library_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_doc_document_trash_id'), ['trash_id'], unique=False)
        batch_op.create_index('uq_doc_document_live_name', ['folder_id', 'name_key'], unique=True, postgresql_where=sa.text('deleted_at IS NULL'), sqlite_where=sa.text('deleted_at IS NULL'))

    op.create_table('doc_permission',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('folder_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('principal', sa.String(length=200), nullable=False),
    sa.Column('actions', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=150), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['folder_id'], ['doc_folder.id'], name=op.f('fk_doc_permission_folder_id_doc_folder'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_doc_permission')),
    sa.UniqueConstraint('folder_id', 'principal', name='uq_doc_permission_folder_principal')
    )
    with op.batch_alter_table('doc_permission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_doc_permission_principal'), ['principal'], unique=False)

    op.create_table('doc_link',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('target_kind', sa.String(length=20), nullable=False),
    sa.Column('target_id', sa.BigInteger(), nullable=False),
    sa.Column('created_by', sa.String(length=150), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['doc_document.id'], name=op.f('fk_doc_link_document_id_doc_document'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_doc_link')),
    sa.UniqueConstraint('document_id', 'target_kind', 'target_id', name='uq_doc_link_document_target')
    )
    with op.batch_alter_table('doc_link', schema=None) as batch_op:
        batch_op.create_index('ix_doc_link_target', ['target_kind', 'target_id'], unique=False)

    op.create_table('doc_version',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('crc32', sa.BigInteger(), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('encrypted', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('source_ref', sa.String(length=100), nullable=True),
    sa.Column('restored_from', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=150), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('extraction', sa.String(length=20), nullable=False),
    sa.Column('extraction_reason', sa.String(length=300), nullable=True),
    sa.Column('text_format', sa.String(length=20), nullable=True),
    sa.Column('extracted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['doc_document.id'], name=op.f('fk_doc_version_document_id_doc_document'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_doc_version')),
    sa.UniqueConstraint('document_id', 'number', name='uq_doc_version_document_number')
    )
    with op.batch_alter_table('doc_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_doc_version_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_doc_version_extraction'), ['extraction'], unique=False)
        batch_op.create_index(batch_op.f('ix_doc_version_sha256'), ['sha256'], unique=False)

    op.create_table('doc_text',
    sa.Column('version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('truncated', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['doc_version.id'], name=op.f('fk_doc_text_version_id_doc_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('version_id', name=op.f('pk_doc_text'))
    )


def downgrade() -> None:
    op.drop_table('doc_text')
    with op.batch_alter_table('doc_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_doc_version_sha256'))
        batch_op.drop_index(batch_op.f('ix_doc_version_extraction'))
        batch_op.drop_index(batch_op.f('ix_doc_version_document_id'))

    op.drop_table('doc_version')
    with op.batch_alter_table('doc_link', schema=None) as batch_op:
        batch_op.drop_index('ix_doc_link_target')

    op.drop_table('doc_link')
    with op.batch_alter_table('doc_permission', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_doc_permission_principal'))

    op.drop_table('doc_permission')
    with op.batch_alter_table('doc_document', schema=None) as batch_op:
        batch_op.drop_index('uq_doc_document_live_name', postgresql_where=sa.text('deleted_at IS NULL'), sqlite_where=sa.text('deleted_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_doc_document_trash_id'))
        batch_op.drop_index(batch_op.f('ix_doc_document_library_id'))
        batch_op.drop_index(batch_op.f('ix_doc_document_folder_id'))

    op.drop_table('doc_document')
    with op.batch_alter_table('doc_trash', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_doc_trash_library_id'))

    op.drop_table('doc_trash')
    with op.batch_alter_table('doc_library_admin', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_doc_library_admin_username'))

    op.drop_table('doc_library_admin')
    with op.batch_alter_table('doc_folder_ancestor', schema=None) as batch_op:
        batch_op.drop_index('ix_doc_folder_ancestor_ancestor')

    op.drop_table('doc_folder_ancestor')
    with op.batch_alter_table('doc_folder', schema=None) as batch_op:
        batch_op.drop_index('uq_doc_folder_live_name', postgresql_where=sa.text('deleted_at IS NULL'), sqlite_where=sa.text('deleted_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_doc_folder_trash_id'))
        batch_op.drop_index(batch_op.f('ix_doc_folder_parent_id'))
        batch_op.drop_index(batch_op.f('ix_doc_folder_library_id'))
        batch_op.drop_index(batch_op.f('ix_doc_folder_acl_root_id'))

    op.drop_table('doc_folder')
    with op.batch_alter_table('doc_library', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_doc_library_owner'))
        batch_op.drop_index(batch_op.f('ix_doc_library_department_id'))

    op.drop_table('doc_library')
    op.drop_table('doc_blob_release')

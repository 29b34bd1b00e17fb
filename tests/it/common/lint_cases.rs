//! Lint rule cases shared by the rule tests and the rendered-SQL cross-check: for each rule, the
//! body lines of a revision (upgrade, downgrade) that must fire it and of a look-alike that must
//! not.

/// One case per rule: a revision that must fire it and a look-alike that must not.
pub struct Case {
    pub rule: &'static str,
    pub fire: (&'static [&'static str], &'static [&'static str]),
    pub quiet: (&'static [&'static str], &'static [&'static str]),
}

pub const NOOP: &[&str] = &[];

pub const CASES: &[Case] = &[
    Case {
        rule: "drop-table",
        fire: (&["op.drop_table('orders')"], &["op.create_table('orders', sa.Column('id', sa.Integer()))"]),
        quiet: (&["op.create_table('tmp', sa.Column('id', sa.Integer()))", "op.drop_table('tmp')"], NOOP),
    },
    Case {
        rule: "drop-column",
        fire: (&["op.drop_column('orders', 'note')"], &["op.add_column('orders', sa.Column('note', sa.Text()))"]),
        quiet: (&["op.add_column('orders', sa.Column('note', sa.Text()))"], &["op.alter_column('orders', 'note', comment='x')"]),
    },
    Case {
        rule: "drop-schema",
        fire: (&["op.execute('DROP SCHEMA archive CASCADE')"], NOOP),
        quiet: (&["op.execute('CREATE SCHEMA archive')"], NOOP),
    },
    Case {
        rule: "drop-type",
        fire: (&["op.execute('DROP TYPE mood')"], NOOP),
        quiet: (&["op.execute(\"CREATE TYPE mood AS ENUM ('sad', 'ok')\")"], NOOP),
    },
    Case {
        rule: "drop-sequence",
        fire: (&["op.execute('DROP SEQUENCE IF EXISTS order_seq')"], NOOP),
        quiet: (&["op.execute('CREATE SEQUENCE order_seq')"], NOOP),
    },
    Case {
        rule: "drop-view",
        fire: (&["op.execute('DROP MATERIALIZED VIEW totals')"], NOOP),
        quiet: (&["op.execute('CREATE VIEW totals AS SELECT 1')"], NOOP),
    },
    Case {
        rule: "truncate",
        fire: (&["op.execute('TRUNCATE TABLE audit_log')"], NOOP),
        quiet: (&["op.execute(\"SELECT 'TRUNCATE audit_log'\")"], NOOP),
    },
    Case {
        rule: "delete-without-where",
        fire: (&["op.execute(sa.text('DELETE FROM sessions'))"], NOOP),
        quiet: (&["op.execute(sa.text('DELETE FROM sessions WHERE expires < now()'))"], NOOP),
    },
    Case {
        rule: "update-without-where",
        fire: (&["op.execute('UPDATE accounts SET active = true')"], NOOP),
        quiet: (&["op.execute('UPDATE accounts SET active = true WHERE id = 1')"], NOOP),
    },
    Case {
        rule: "alter-column-type",
        fire: (&["op.alter_column('orders', 'total', type_=sa.Numeric(12, 2), existing_type=sa.Integer())"], &["op.alter_column('orders', 'total', type_=sa.Integer())"]),
        quiet: (&["op.alter_column('orders', 'total', existing_type=sa.Integer(), comment='cents')"], NOOP),
    },
    Case {
        rule: "drop-constraint",
        fire: (&["op.drop_constraint('uq_email', 'users', type_='unique')"], &["op.create_unique_constraint('uq_email', 'users', ['email'])"]),
        quiet: (&["op.create_table('t', sa.Column('id', sa.Integer()))", "op.drop_constraint('t_pkey', 't')"], NOOP),
    },
    Case {
        rule: "drop-index",
        fire: (&["op.drop_index('ix_users_email', table_name='users')"], NOOP),
        quiet: (&["op.create_index('ix_users_email', 'users', ['email'], postgresql_concurrently=True)"], NOOP),
    },
    Case {
        rule: "create-index-without-concurrently",
        fire: (&["op.create_index('ix_users_email', 'users', ['email'])"], &["op.drop_index('ix_users_email', table_name='users')"]),
        quiet: (&["op.create_table('users', sa.Column('email', sa.String()))", "op.create_index('ix_users_email', 'users', ['email'])"], &["op.drop_table('users')"]),
    },
    Case {
        rule: "concurrently-inside-transaction",
        fire: (&["op.create_index('ix_a', 'a', ['b'], postgresql_concurrently=True)"], NOOP),
        quiet: (&["with op.get_context().autocommit_block():", "    op.create_index('ix_a', 'a', ['b'], postgresql_concurrently=True)"], NOOP),
    },
    Case {
        rule: "add-not-null-column-without-default",
        fire: (&["op.add_column('users', sa.Column('tier', sa.String(10), nullable=False))"], NOOP),
        quiet: (&["op.add_column('users', sa.Column('tier', sa.String(10), nullable=False, server_default='free'))"], NOOP),
    },
    Case {
        rule: "set-not-null",
        fire: (&["op.alter_column('users', 'email', existing_type=sa.String(), nullable=False)"], NOOP),
        quiet: (&["op.alter_column('users', 'email', existing_type=sa.String(), nullable=True)"], NOOP),
    },
    Case {
        rule: "add-foreign-key-without-not-valid",
        fire: (&["op.create_foreign_key('fk_o_u', 'orders', 'users', ['user_id'], ['id'])"], NOOP),
        quiet: (&["op.execute('ALTER TABLE orders ADD CONSTRAINT fk_o_u FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID')"], NOOP),
    },
    Case {
        rule: "add-check-without-not-valid",
        fire: (&["op.create_check_constraint('ck_total', 'orders', 'total >= 0')"], NOOP),
        quiet: (&["op.execute('ALTER TABLE orders ADD CONSTRAINT ck_total CHECK (total >= 0) NOT VALID')"], NOOP),
    },
    Case {
        rule: "add-unique-constraint",
        fire: (&["op.create_unique_constraint('uq_email', 'users', ['email'])"], NOOP),
        quiet: (&["op.execute('ALTER TABLE users ADD CONSTRAINT uq_email UNIQUE USING INDEX ix_email')"], NOOP),
    },
    Case {
        rule: "volatile-default",
        fire: (&["op.add_column('users', sa.Column('token', sa.Uuid(), server_default=sa.text('gen_random_uuid()')))"], NOOP),
        quiet: (&["op.add_column('users', sa.Column('seen', sa.DateTime(), server_default=sa.func.now()))"], NOOP),
    },
    Case {
        rule: "enum-add-value-in-transaction",
        fire: (&["op.execute(\"ALTER TYPE mood ADD VALUE 'happy'\")", "op.execute(\"UPDATE people SET mood = 'happy' WHERE id = 1\")"], NOOP),
        quiet: (&["op.execute(\"ALTER TYPE mood ADD VALUE 'happy'\")", "op.execute(\"UPDATE people SET mood = 'ok' WHERE id = 1\")"], NOOP),
    },
    Case {
        rule: "suspected-rename",
        fire: (&["op.add_column('users', sa.Column('full_name', sa.String(80)))", "op.drop_column('users', 'name')"], &["op.add_column('users', sa.Column('name', sa.String(80)))", "op.drop_column('users', 'full_name')"]),
        quiet: (&["op.add_column('users', sa.Column('age', sa.Integer()))", "op.drop_column('users', 'name')"], &["op.add_column('users', sa.Column('name', sa.String(80)))", "op.drop_column('users', 'age')"]),
    },
    Case {
        rule: "irreversible",
        fire: (&["op.create_table('t', sa.Column('id', sa.Integer()))"], &["raise NotImplementedError('no way back')"]),
        quiet: (&["op.create_table('t', sa.Column('id', sa.Integer()))"], &["op.drop_table('t')"]),
    },
    Case {
        rule: "downgrade-mismatch",
        fire: (&["op.create_table('t', sa.Column('id', sa.Integer()))", "op.create_index('ix_t', 't', ['id'])"], &["op.drop_index('ix_t', table_name='t')"]),
        quiet: (&["op.create_table('t', sa.Column('id', sa.Integer()))", "op.create_index('ix_t', 't', ['id'])"], &["op.drop_table('t')"]),
    },
    Case {
        rule: "mixed-schema-and-data",
        fire: (&["op.add_column('users', sa.Column('tier', sa.String(10)))", "op.execute(\"UPDATE users SET tier = 'free' WHERE tier IS NULL\")"], &["op.drop_column('users', 'tier')"]),
        quiet: (&["op.execute(\"UPDATE users SET tier = 'free' WHERE tier IS NULL\")"], NOOP),
    },
    Case {
        rule: "rename-column",
        fire: (&["op.alter_column('users', 'name', new_column_name='full_name')"], &["op.alter_column('users', 'full_name', new_column_name='name')"]),
        quiet: (&["op.alter_column('users', 'name', comment='the name')"], NOOP),
    },
    Case {
        rule: "rename-table",
        fire: (&["op.rename_table('user', 'account')"], &["op.rename_table('account', 'user')"]),
        quiet: (&["op.execute(\"COMMENT ON TABLE account IS 'rename later'\")"], NOOP),
    },
];

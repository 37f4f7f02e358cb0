//! The statement shapes the reads and writes share, built with sea-query, which renders each
//! backend's placeholders and quoted identifiers: a values table to join, a multi-row
//! `UPDATE … FROM` (MySQL: `UPDATE … JOIN`), and the `INSERT … SELECT` of history rows. Every
//! value is bound; identifiers are the table constants of [`crate::catalog::tables`] or column
//! names.

use std::iter::once;
use std::mem::discriminant;

use ports::{StoreError, StoreResult};
use sea_orm::sea_query::{
    Alias, ArrayType, Expr, ExprTrait, Func, IntoIden, Query, SelectStatement, TableRef, UnionType, ValueTuple,
};
use sea_orm::{Statement, StatementBuilder, Value};

use crate::backend::Backend;

/// The alias of a values table.
pub(crate) const V: &str = "v";

/// One row of a values table: an id, then one value per further column.
pub(crate) type Row = (i64, Vec<Value>);

/// A sea-query statement rendered for `backend`, its values bound.
pub(crate) fn build(backend: Backend, statement: &impl StatementBuilder) -> Statement {
    statement.build(&backend.db_backend())
}

/// `SELECT table.c1, table.c2, … FROM table`.
pub(crate) fn select(table: &'static str, columns: &[&'static str]) -> SelectStatement {
    Query::select().columns(columns.iter().map(|&c| (table, c))).from(table).take()
}

/// Rows of values as a derived table `v(id, c1, …)`: on PostgreSQL one array per column
/// (see [`unnest_arrays`]); on SQLite (and on PostgreSQL for what has no array binding)
/// `(SELECT column1 AS id, … FROM (VALUES …) AS t) AS v`; on MySQL a `UNION ALL` of `SELECT`s
/// (MariaDB names a `VALUES` table's columns after its first row). `rows` is not empty.
pub(crate) fn values_table(backend: Backend, columns: &[&'static str], rows: &[Row]) -> TableRef {
    let names: Vec<&'static str> = once("id").chain(columns.iter().copied()).collect();
    if backend == Backend::Postgres
        && let Some(select) = unnest_arrays(&names, rows)
    {
        return TableRef::SubQuery(Box::new(select), V.into_iden());
    }
    let values = |(id, values): &Row| once(Value::from(*id)).chain(values.iter().cloned()).collect::<Vec<_>>();
    let mut select = Query::select();
    match backend {
        Backend::Postgres | Backend::Sqlite => {
            for (i, name) in names.iter().enumerate() {
                select.expr_as(Expr::col(Alias::new(format!("column{}", i + 1))), *name);
            }
            select.from_values(rows.iter().map(|row| ValueTuple::Many(values(row))), "t");
        }
        Backend::MySql => {
            let mut rows = rows.iter();
            if let Some(first) = rows.next() {
                for (value, name) in values(first).into_iter().zip(&names) {
                    select.expr_as(Expr::val(value), *name);
                }
            }
            select.unions(
                rows.map(|row| (UnionType::All, Query::select().exprs(values(row).into_iter().map(Expr::val)).take())),
            );
        }
    }
    TableRef::SubQuery(Box::new(select), V.into_iden())
}

/// PostgreSQL: `SELECT unnest($1) AS id, unnest($2) AS c1, …`, each parameter an array of one
/// column's values (set-returning functions in one select list advance together). The text is
/// the same for any number of rows, so the connection prepares it once, where each chunk's
/// `VALUES` list is new text to parse and plan. `None` where a column holds a NULL, mixes types,
/// or has a type without an array binding here (the caller then builds a `VALUES` list).
fn unnest_arrays(names: &[&'static str], rows: &[Row]) -> Option<SelectStatement> {
    let mut columns: Vec<Vec<Value>> = names.iter().map(|_| Vec::with_capacity(rows.len())).collect();
    for (id, values) in rows {
        if values.len() + 1 != names.len() {
            return None;
        }
        columns[0].push(Value::from(*id));
        for (column, value) in columns[1..].iter_mut().zip(values) {
            column.push(value.clone());
        }
    }
    let mut select = Query::select();
    for (column, name) in columns.into_iter().zip(names) {
        let first = column.first()?;
        let kind = match first {
            Value::BigInt(_) => ArrayType::BigInt,
            Value::Int(_) => ArrayType::Int,
            Value::String(_) => ArrayType::String,
            Value::Bool(_) => ArrayType::Bool,
            _ => return None,
        };
        // The array binding takes every element as a value of `kind`: no NULL, no other type.
        if column.iter().any(|value| discriminant(value) != discriminant(first) || *value == value.as_null()) {
            return None;
        }
        select.expr_as(Func::cust("unnest").arg(Value::Array(kind, Some(Box::new(column)))), *name);
    }
    Some(select)
}

/// `UPDATE table SET c = v.c, …, f = ? FROM (rows) v WHERE table.id = v.id AND …`: one
/// statement for many rows, each with its own values (a join, not a `CASE`, so the cost grows
/// with the rows, not with their square). A row's values are those of `set`, then those of
/// `compare`.
pub(crate) struct BulkUpdate<'a> {
    pub(crate) table: &'static str,
    /// Columns set to the row's value of the same name.
    pub(crate) set: &'a [&'static str],
    /// `(value, column)`: the row is updated only while `column` still holds its value `value`
    /// (compared, not assigned).
    pub(crate) compare: &'a [(&'static str, &'static str)],
    /// Columns set to the same value on every row.
    pub(crate) fixed: Vec<(&'static str, Value)>,
    /// A column that must be NULL for the row to be updated.
    pub(crate) only_if_null: Option<&'static str>,
}

impl BulkUpdate<'_> {
    /// The statements for `rows`, split at the bound-value limit.
    pub(crate) fn statements(&self, backend: Backend, rows: &[Row]) -> Vec<Statement> {
        let table = self.table;
        let columns: Vec<&'static str> = self.set.iter().copied().chain(self.compare.iter().map(|&(v, _)| v)).collect();
        let rows_per_statement = (backend.max_binds() / (1 + columns.len())).max(1);
        rows.chunks(rows_per_statement)
            .map(|chunk| {
                let mut update = Query::update();
                update
                    .table(table)
                    .values(self.set.iter().map(|&c| (c, Expr::col((V, c)))))
                    .values(self.fixed.iter().map(|(c, value)| (*c, Expr::val(value.clone()))))
                    .from(values_table(backend, &columns, chunk))
                    .and_where(Expr::col((table, "id")).equals((V, "id")));
                for &(value, column) in self.compare {
                    update.and_where(Expr::col((table, column)).equals((V, value)));
                }
                if let Some(column) = self.only_if_null {
                    update.and_where(Expr::col((table, column)).is_null());
                }
                build(backend, &update)
            })
            .collect()
    }

    /// A `SELECT id FROM table WHERE …` of the rows that hold the fixed values: after
    /// [`Self::statements`], those it wrote (when `fixed` holds this call's `modified`).
    pub(crate) fn written(&self) -> SelectStatement {
        let mut select = Query::select();
        select.column((self.table, "id")).from(self.table);
        for (column, value) in &self.fixed {
            select.and_where(if *value == value.as_null() {
                Expr::col((self.table, *column)).is_null()
            } else {
                Expr::col((self.table, *column)).eq(value.clone())
            });
        }
        select
    }
}

/// `+` or `~`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum HistoryType {
    Insert,
    Update,
}

impl HistoryType {
    fn as_str(self) -> &'static str {
        match self {
            Self::Insert => "+",
            Self::Update => "~",
        }
    }
}

/// django-simple-history rows copied from live rows:
/// `INSERT INTO history (columns, [history_id,] history_date, history_change_reason,
/// history_type, history_user_id) SELECT live.columns, [history_id,] ?, NULL, ?, ? FROM …`
/// (`history_user_id` bound: the acting user, or NULL).
pub(crate) struct HistoryRows<'a> {
    pub(crate) live: &'static str,
    pub(crate) history: &'static str,
    /// The columns copied (see [`crate::catalog::Catalog::history_copy_columns`]).
    pub(crate) columns: &'a [String],
    pub(crate) at: Value,
    pub(crate) kind: HistoryType,
    /// `history_user_id`: the acting user of the transaction, if any.
    pub(crate) user: Option<i64>,
}

impl HistoryRows<'_> {
    /// The statement; `from` adds the `FROM` and `WHERE` of the `SELECT` to the select list
    /// (the live columns, qualified by the live table's name, then `history_id` if given).
    pub(crate) fn statement(
        &self,
        backend: Backend,
        history_id: Option<Expr>,
        from: impl FnOnce(&mut SelectStatement),
    ) -> StoreResult<Statement> {
        let mut select = Query::select();
        select.columns(self.columns.iter().map(|c| (self.live, Alias::new(c.as_str()))));
        let mut targets: Vec<Alias> = self.columns.iter().map(|c| Alias::new(c.as_str())).collect();
        if let Some(history_id) = history_id {
            select.expr(history_id);
            targets.push(Alias::new("history_id"));
        }
        select
            .expr(Expr::val(self.at.clone()))
            .expr(Expr::null())
            .expr(Expr::val(self.kind.as_str()))
            .expr(Expr::val(Value::BigInt(self.user)));
        targets.extend(["history_date", "history_change_reason", "history_type", "history_user_id"].map(Alias::new));
        from(&mut select);
        let mut insert = Query::insert();
        insert
            .into_table(self.history)
            .columns(targets)
            .select_from(select)
            .map_err(|_| StoreError::Misuse("a history statement's columns and values differ"))?;
        Ok(build(backend, &insert))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unlink() -> BulkUpdate<'static> {
        BulkUpdate {
            table: "pe",
            set: &[],
            compare: &[("old_user", "user_id")],
            fixed: vec![("user_id", Value::BigInt(None)), ("modified", Value::from("now"))],
            only_if_null: None,
        }
    }

    #[test]
    fn bulk_updates_quote_identifiers_and_bind_every_value() {
        let rows: Vec<Row> = vec![(1, vec![Value::from(7_i64)]), (2, vec![Value::from(8_i64)])];
        let render = |backend| {
            let statements = unlink().statements(backend, &rows);
            assert_eq!(statements.len(), 1);
            let values = statements[0].values.as_ref().map_or(0, |v| v.0.len());
            (statements[0].sql.clone(), values)
        };
        assert_eq!(
            render(Backend::Postgres),
            (
                r#"UPDATE "pe" SET "user_id" = $1, "modified" = $2 FROM (SELECT unnest($3) AS "id", unnest($4) AS "old_user") AS "v" WHERE "pe"."id" = "v"."id" AND "pe"."user_id" = "v"."old_user""#
                    .to_owned(),
                4
            )
        );
        assert_eq!(
            render(Backend::Sqlite),
            (
                r#"UPDATE "pe" SET "user_id" = ?, "modified" = ? FROM (SELECT "column1" AS "id", "column2" AS "old_user" FROM (VALUES (?, ?), (?, ?)) AS "t") AS "v" WHERE "pe"."id" = "v"."id" AND "pe"."user_id" = "v"."old_user""#
                    .to_owned(),
                6
            )
        );
        assert_eq!(
            render(Backend::MySql),
            (
                "UPDATE `pe` JOIN (SELECT ? AS `id`, ? AS `old_user` UNION ALL (SELECT ?, ?)) AS `v` ON `pe`.`id` = `v`.`id` AND `pe`.`user_id` = `v`.`old_user` SET `pe`.`user_id` = ?, `pe`.`modified` = ?"
                    .to_owned(),
                6
            )
        );
    }

    #[test]
    fn postgres_binds_a_column_as_one_array_unless_it_holds_a_null_or_an_unbound_type() {
        let sql = |rows: &[Row]| {
            let mut select = Query::select();
            select.column((V, "id")).from(values_table(Backend::Postgres, &["c"], rows));
            let statement = build(Backend::Postgres, &select);
            (statement.sql, statement.values.map_or(0, |v| v.0.len()))
        };
        let arrays = r#"SELECT "v"."id" FROM (SELECT unnest($1) AS "id", unnest($2) AS "c") AS "v""#.to_owned();
        let strings = [(1, vec![Value::from("a")]), (2, vec![Value::from("b")])];
        assert_eq!(sql(&strings), (arrays.clone(), 2));
        let flags = [(1, vec![Value::from(true)]), (2, vec![Value::from(false)])];
        assert_eq!(sql(&flags), (arrays, 2));
        let values = r#"SELECT "v"."id" FROM (SELECT "column1" AS "id", "column2" AS "c" FROM (VALUES ($1, $2), ($3, $4)) AS "t") AS "v""#.to_owned();
        let with_null = [(1, vec![Value::from(7_i64)]), (2, vec![Value::BigInt(None)])];
        assert_eq!(sql(&with_null), (values.clone(), 4));
        let mixed = [(1, vec![Value::from(7_i64)]), (2, vec![Value::from("x")])];
        assert_eq!(sql(&mixed), (values.clone(), 4));
        let unbound = [(1, vec![Value::from(1.5_f64)]), (2, vec![Value::from(2.5_f64)])];
        assert_eq!(sql(&unbound), (values, 4));
    }

    #[test]
    fn written_rows_are_those_holding_the_fixed_values() {
        let sql = build(Backend::Sqlite, &unlink().written()).sql;
        assert_eq!(sql, r#"SELECT "pe"."id" FROM "pe" WHERE "pe"."user_id" IS NULL AND "pe"."modified" = ?"#);
    }
}

//! Our `CREATE INDEX` statements, run only where the table has no index of the same shape
//! already: on a schema Django made (`migrate --force` on an Open edX database), its indexes
//! carry Django's hashed names, so `IF NOT EXISTS` alone would add each one a second time
//! under our name. The shape is what the index does, not what it is called: the table, the
//! columns in order with their `DESC` and operator class (PostgreSQL's `varchar_pattern_ops`),
//! and whether it is unique.
//!
//! MySQL/MariaDB needs none of this: its indexes are declared inside `CREATE TABLE IF NOT
//! EXISTS`, which leaves an existing table alone.

use std::collections::HashMap;

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{DatabaseBackend, Statement};

/// One key column of an index.
#[derive(Debug, Clone, PartialEq, Eq)]
struct KeyColumn {
    name: String,
    /// The operator class when it is not the column type's default (`varchar_pattern_ops`).
    opclass: String,
    descending: bool,
}

/// What an index does: unique or not, over which key columns in which order.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shape {
    unique: bool,
    columns: Vec<KeyColumn>,
}

/// The table and shape of one of our `CREATE [UNIQUE] INDEX IF NOT EXISTS "name" ON "table"
/// ("col" [DESC | opclass], …)` statements; `None` for any other.
fn parse(sql: &str) -> Option<(String, Shape)> {
    let unique = sql.starts_with("CREATE UNIQUE INDEX ");
    if !unique && !sql.starts_with("CREATE INDEX ") {
        return None;
    }
    let (_, target) = sql.split_once(" ON ")?;
    let (table, rest) = target.strip_prefix('"')?.split_once('"')?;
    let list = rest.trim().strip_prefix('(')?.strip_suffix(')')?;
    let columns = list
        .split(',')
        .map(|item| {
            let (name, rest) = item.trim().strip_prefix('"')?.split_once('"')?;
            let rest = rest.trim();
            let descending = rest == "DESC";
            let opclass = if descending { String::new() } else { rest.to_owned() };
            Some(KeyColumn { name: name.to_owned(), opclass, descending })
        })
        .collect::<Option<Vec<_>>>()?;
    Some((table.to_owned(), Shape { unique, columns }))
}

/// The shapes of the indexes `table` has now (any name, any origin: primary key, unique
/// constraint, index).
async fn shapes_of(conn: &SchemaManagerConnection<'_>, table: &str) -> Result<Vec<Shape>, DbErr> {
    let backend = conn.get_database_backend();
    // Hand-written catalog queries (sea-query has no table-valued pragmas nor multi-array
    // `unnest`); the table name is bound.
    let sql = match backend {
        DatabaseBackend::Sqlite => {
            r#"SELECT il.name AS index_name, CAST(il."unique" AS INTEGER) AS is_unique, x.name AS column_name,
                      CAST(x."desc" AS INTEGER) AS descending, '' AS opclass
               FROM pragma_index_list(?) AS il, pragma_index_xinfo(il.name) AS x
               WHERE x.key = 1 ORDER BY il.name, x.seqno"#
        }
        DatabaseBackend::Postgres => {
            "SELECT i.relname::text AS index_name, x.indisunique::int4 AS is_unique, a.attname::text AS column_name, \
                    (k.opt & 1)::int4 AS descending, \
                    CASE WHEN opc.opcdefault THEN '' ELSE opc.opcname::text END AS opclass \
             FROM pg_index x \
             JOIN pg_class i ON i.oid = x.indexrelid \
             JOIN pg_class t ON t.oid = x.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             CROSS JOIN LATERAL unnest(x.indkey::int2[], x.indclass::oid[], x.indoption::int2[]) \
               WITH ORDINALITY AS k(attnum, opclassid, opt, ord) \
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
             JOIN pg_opclass opc ON opc.oid = k.opclassid \
             WHERE n.nspname = current_schema() AND t.relname = $1 \
             ORDER BY i.relname, k.ord"
        }
        _ => return Ok(Vec::new()),
    };
    let rows = conn.query_all_raw(Statement::from_sql_and_values(backend, sql, [table.into()])).await?;
    let mut by_name: Vec<(String, Shape)> = Vec::new();
    for row in rows {
        let name: String = row.try_get("", "index_name")?;
        let unique: i32 = row.try_get("", "is_unique")?;
        let column: Option<String> = row.try_get("", "column_name")?;
        let descending: i32 = row.try_get("", "descending")?;
        let opclass: String = row.try_get("", "opclass")?;
        // An expression's key column has no name: an index no statement of ours can match.
        let column = KeyColumn { name: column.unwrap_or_default(), opclass, descending: descending != 0 };
        match by_name.last_mut() {
            Some((last, shape)) if *last == name => shape.columns.push(column),
            _ => by_name.push((name, Shape { unique: unique != 0, columns: vec![column] })),
        }
    }
    Ok(by_name.into_iter().map(|(_, shape)| shape).collect())
}

/// Runs `statements` in order; an index statement only where its table has no index of the
/// same shape (under any name).
///
/// # Errors
/// A database error.
pub(crate) async fn execute_unless_indexed(
    conn: &SchemaManagerConnection<'_>,
    statements: &[&'static str],
) -> Result<(), DbErr> {
    let mut known: HashMap<String, Vec<Shape>> = HashMap::new();
    for &sql in statements {
        if !sql.starts_with("CREATE INDEX ") && !sql.starts_with("CREATE UNIQUE INDEX ") {
            conn.execute_unprepared(sql).await?;
            continue;
        }
        let Some((table, shape)) = parse(sql) else {
            return Err(DbErr::Migration(format!("cannot read the table and columns of {sql}")));
        };
        if !known.contains_key(&table) {
            let shapes = shapes_of(conn, &table).await?;
            known.insert(table.clone(), shapes);
        }
        let shapes = known.entry(table).or_default();
        if shapes.contains(&shape) {
            continue;
        }
        conn.execute_unprepared(sql).await?;
        shapes.push(shape);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, opclass: &str, descending: bool) -> KeyColumn {
        KeyColumn { name: name.into(), opclass: opclass.into(), descending }
    }

    #[test]
    fn our_index_statements_parse_to_their_shape() {
        assert_eq!(
            parse(
                r#"CREATE UNIQUE INDEX IF NOT EXISTS "ce_user_course_uniq" ON "student_courseenrollment" ("user_id", "course_id")"#
            ),
            Some((
                "student_courseenrollment".into(),
                Shape { unique: true, columns: vec![column("user_id", "", false), column("course_id", "", false)] }
            ))
        );
        assert_eq!(
            parse(r#"CREATE INDEX IF NOT EXISTS "x" ON "student_courseenrollment" ("user_id", "created" DESC)"#)
                .map(|(_, shape)| shape.columns),
            Some(vec![column("user_id", "", false), column("created", "", true)])
        );
        assert_eq!(
            parse(r#"CREATE INDEX IF NOT EXISTS "co_id_like" ON "course_overviews_courseoverview" ("id" varchar_pattern_ops)"#)
                .map(|(_, shape)| shape.columns),
            Some(vec![column("id", "varchar_pattern_ops", false)])
        );
        assert_eq!(parse(r#"CREATE TABLE IF NOT EXISTS "t" ("id" integer)"#), None);
    }
}

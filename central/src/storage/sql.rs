//! A small SQL layer both engines implement, so that the fleet logic (availability buckets,
//! alarms, tickets, disinfection, statistics) is written once and gives the same answers on
//! SQLite and PostgreSQL.
//!
//! Statements are written with PostgreSQL's `$1` placeholders and in the SQL both engines share
//! (`INSERT … ON CONFLICT … DO UPDATE`, `RETURNING`, `CAST(… AS BIGINT)`); the SQLite side turns
//! `$N` into `?N`. Integers are always `BIGINT` (`i64`), reals `DOUBLE PRECISION` (`f64`),
//! everything else text. Nothing here leaves the crate: the public interface stays
//! [`super::CentralStorage`].

use super::StorageError;

/// A parameter or a column value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    /// Only read back (a NULL whose type the engine did not say); never bound.
    Null,
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<String>),
}

impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::Int(Some(v))
    }
}

impl From<Option<i64>> for Val {
    fn from(v: Option<i64>) -> Self {
        Val::Int(v)
    }
}

impl From<f64> for Val {
    fn from(v: f64) -> Self {
        Val::Real(Some(v))
    }
}

impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Val::Text(Some(v.to_string()))
    }
}

impl From<&String> for Val {
    fn from(v: &String) -> Self {
        Val::Text(Some(v.clone()))
    }
}

impl From<String> for Val {
    fn from(v: String) -> Self {
        Val::Text(Some(v))
    }
}

impl From<Option<String>> for Val {
    fn from(v: Option<String>) -> Self {
        Val::Text(v)
    }
}

impl From<Option<&str>> for Val {
    fn from(v: Option<&str>) -> Self {
        Val::Text(v.map(str::to_string))
    }
}

/// Builds a `&[Val]` from anything convertible.
macro_rules! vals {
    ($($v:expr),* $(,)?) => { &[$($crate::storage::sql::Val::from($v)),*] };
}
pub(crate) use vals;

/// One result row.
#[derive(Debug, Clone)]
pub(crate) struct SqlRow(pub Vec<Val>);

impl SqlRow {
    fn get(&self, index: usize) -> Result<&Val, StorageError> {
        self.0
            .get(index)
            .ok_or_else(|| StorageError::Corrupt(format!("result has no column {index}")))
    }

    pub fn opt_int(&self, index: usize) -> Result<Option<i64>, StorageError> {
        match self.get(index)? {
            Val::Null | Val::Int(None) | Val::Real(None) | Val::Text(None) => Ok(None),
            Val::Int(Some(v)) => Ok(Some(*v)),
            // SQLite's SUM/AVG of integers can come back as a real.
            Val::Real(Some(v)) => Ok(Some(v.round() as i64)),
            Val::Text(Some(t)) => Err(StorageError::Corrupt(format!(
                "column {index}: expected an integer, found text ({} chars)",
                t.chars().count()
            ))),
        }
    }

    pub fn int(&self, index: usize) -> Result<i64, StorageError> {
        self.opt_int(index)?
            .ok_or_else(|| StorageError::Corrupt(format!("column {index} is NULL")))
    }

    pub fn opt_real(&self, index: usize) -> Result<Option<f64>, StorageError> {
        match self.get(index)? {
            Val::Real(Some(v)) => Ok(Some(*v)),
            Val::Int(Some(v)) => Ok(Some(*v as f64)),
            Val::Null | Val::Int(None) | Val::Real(None) | Val::Text(None) => Ok(None),
            Val::Text(Some(_)) => Err(StorageError::Corrupt(format!(
                "column {index}: expected a number, found text"
            ))),
        }
    }

    pub fn real(&self, index: usize) -> Result<f64, StorageError> {
        Ok(self.opt_real(index)?.unwrap_or(0.0))
    }

    pub fn opt_text(&self, index: usize) -> Result<Option<String>, StorageError> {
        match self.get(index)? {
            Val::Text(v) => Ok(v.clone()),
            Val::Null | Val::Int(None) | Val::Real(None) => Ok(None),
            Val::Int(Some(v)) => Ok(Some(v.to_string())),
            Val::Real(Some(v)) => Ok(Some(v.to_string())),
        }
    }

    pub fn text(&self, index: usize) -> Result<String, StorageError> {
        self.opt_text(index)?
            .ok_or_else(|| StorageError::Corrupt(format!("column {index} is NULL")))
    }
}

/// What the fleet logic needs from an engine, inside one of its transactions.
pub(crate) trait Sql {
    /// Runs a statement; the number of rows it changed.
    fn execute(
        &mut self,
        operation: &'static str,
        sql: &str,
        params: &[Val],
    ) -> Result<u64, StorageError>;

    /// Runs a query (or a statement with `RETURNING`); its rows.
    fn query(
        &mut self,
        operation: &'static str,
        sql: &str,
        params: &[Val],
    ) -> Result<Vec<SqlRow>, StorageError>;

    fn query_opt(
        &mut self,
        operation: &'static str,
        sql: &str,
        params: &[Val],
    ) -> Result<Option<SqlRow>, StorageError> {
        Ok(self.query(operation, sql, params)?.into_iter().next())
    }
}

/// `$1` → `?1` for SQLite (statements here never hold a `$` otherwise).
pub(crate) fn sqlite_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

/// The SQLite side: a connection (inside a transaction the caller holds).
pub(crate) struct SqliteSql<'a>(pub &'a rusqlite::Connection);

impl SqliteSql<'_> {
    fn bind(params: &[Val]) -> Vec<rusqlite::types::Value> {
        use rusqlite::types::Value;
        params
            .iter()
            .map(|v| match v {
                Val::Null | Val::Int(None) | Val::Real(None) | Val::Text(None) => Value::Null,
                Val::Int(Some(i)) => Value::Integer(*i),
                Val::Real(Some(r)) => Value::Real(*r),
                Val::Text(Some(t)) => Value::Text(t.clone()),
            })
            .collect()
    }
}

fn sqlite_error(operation: &'static str) -> impl FnOnce(rusqlite::Error) -> StorageError {
    move |e| StorageError::Engine {
        operation,
        reason: e.to_string(),
    }
}

impl Sql for SqliteSql<'_> {
    fn execute(
        &mut self,
        operation: &'static str,
        sql: &str,
        params: &[Val],
    ) -> Result<u64, StorageError> {
        let mut stmt = self
            .0
            .prepare_cached(&sqlite_placeholders(sql))
            .map_err(sqlite_error(operation))?;
        let changed = stmt
            .execute(rusqlite::params_from_iter(Self::bind(params)))
            .map_err(sqlite_error(operation))?;
        Ok(changed as u64)
    }

    fn query(
        &mut self,
        operation: &'static str,
        sql: &str,
        params: &[Val],
    ) -> Result<Vec<SqlRow>, StorageError> {
        use rusqlite::types::ValueRef;
        let mut stmt = self
            .0
            .prepare_cached(&sqlite_placeholders(sql))
            .map_err(sqlite_error(operation))?;
        let columns = stmt.column_count();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(Self::bind(params)))
            .map_err(sqlite_error(operation))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sqlite_error(operation))? {
            let mut values = Vec::with_capacity(columns);
            for index in 0..columns {
                let value = match row.get_ref(index).map_err(sqlite_error(operation))? {
                    ValueRef::Null => Val::Null,
                    ValueRef::Integer(i) => Val::Int(Some(i)),
                    ValueRef::Real(r) => Val::Real(Some(r)),
                    ValueRef::Text(t) => Val::Text(Some(String::from_utf8_lossy(t).into_owned())),
                    ValueRef::Blob(_) => {
                        return Err(StorageError::Corrupt(format!(
                            "{operation}: column {index} is a blob"
                        )));
                    }
                };
                values.push(value);
            }
            out.push(SqlRow(values));
        }
        Ok(out)
    }
}

/// The PostgreSQL side: a client or a transaction of one pooled connection, with that
/// connection's statement cache (every statement is parsed and planned once per connection,
/// then only bound and executed: one round trip instead of two).
pub(crate) struct PgSql<'a, C: ::postgres::GenericClient> {
    client: &'a mut C,
    statements: &'a mut super::postgres::StatementCache,
}

type PgParam = Box<dyn ::postgres::types::ToSql + Sync>;

fn pg_params(params: &[Val]) -> Vec<PgParam> {
    params
        .iter()
        .map(|v| -> PgParam {
            match v {
                Val::Null | Val::Text(None) => Box::new(None::<String>),
                Val::Int(i) => Box::new(*i),
                Val::Real(r) => Box::new(*r),
                Val::Text(Some(t)) => Box::new(t.clone()),
            }
        })
        .collect()
}

/// Runs `run` with `params` as typed PostgreSQL parameters.
fn with_pg_params<R>(params: &[Val], run: impl FnOnce(&PgParams<'_>) -> R) -> R {
    let owned = pg_params(params);
    let refs: Vec<&(dyn ::postgres::types::ToSql + Sync)> =
        owned.iter().map(|p| p.as_ref()).collect();
    run(&refs)
}

fn pg_error(operation: &'static str) -> impl FnOnce(::postgres::Error) -> StorageError {
    move |e| StorageError::Engine {
        operation,
        reason: super::postgres::error_text(&e),
    }
}

fn pg_value(row: &::postgres::Row, index: usize) -> Result<Val, ::postgres::Error> {
    use ::postgres::types::Type;
    let ty = row.columns()[index].type_().clone();
    Ok(if ty == Type::INT8 {
        Val::Int(row.try_get::<_, Option<i64>>(index)?)
    } else if ty == Type::INT4 {
        Val::Int(row.try_get::<_, Option<i32>>(index)?.map(i64::from))
    } else if ty == Type::INT2 {
        Val::Int(row.try_get::<_, Option<i16>>(index)?.map(i64::from))
    } else if ty == Type::FLOAT8 {
        Val::Real(row.try_get::<_, Option<f64>>(index)?)
    } else if ty == Type::FLOAT4 {
        Val::Real(row.try_get::<_, Option<f32>>(index)?.map(f64::from))
    } else if ty == Type::BOOL {
        Val::Int(row.try_get::<_, Option<bool>>(index)?.map(i64::from))
    } else if ty == Type::UUID {
        Val::Text(
            row.try_get::<_, Option<uuid::Uuid>>(index)?
                .map(|u| u.to_string()),
        )
    } else {
        Val::Text(row.try_get::<_, Option<String>>(index)?)
    })
}

/// A typed PostgreSQL parameter list.
pub(crate) type PgParams<'p> = [&'p (dyn ::postgres::types::ToSql + Sync)];

impl<'a, C: ::postgres::GenericClient> PgSql<'a, C> {
    pub fn new(client: &'a mut C, statements: &'a mut super::postgres::StatementCache) -> Self {
        Self { client, statements }
    }

    fn statement(
        &mut self,
        operation: &'static str,
        sql: &str,
    ) -> Result<::postgres::Statement, StorageError> {
        self.statements
            .get_or_prepare(sql, |sql| self.client.prepare(sql))
            .map_err(pg_error(operation))
    }

    /// Runs a statement with typed parameters; the number of rows it changed.
    pub fn execute_typed(
        &mut self,
        operation: &'static str,
        sql: &str,
        params: &PgParams<'_>,
    ) -> Result<u64, StorageError> {
        let statement = self.statement(operation, sql)?;
        self.client
            .execute(&statement, params)
            .map_err(pg_error(operation))
    }

    /// Runs a query with typed parameters; its rows as the driver gives them.
    pub fn query_typed(
        &mut self,
        operation: &'static str,
        sql: &str,
        params: &PgParams<'_>,
    ) -> Result<Vec<::postgres::Row>, StorageError> {
        let statement = self.statement(operation, sql)?;
        self.client
            .query(&statement, params)
            .map_err(pg_error(operation))
    }

    /// [`Self::query_typed`] expecting at most one row.
    pub fn query_opt_typed(
        &mut self,
        operation: &'static str,
        sql: &str,
        params: &PgParams<'_>,
    ) -> Result<Option<::postgres::Row>, StorageError> {
        Ok(self.query_typed(operation, sql, params)?.into_iter().next())
    }
}

impl<C: ::postgres::GenericClient> Sql for PgSql<'_, C> {
    fn execute(
        &mut self,
        operation: &'static str,
        sql: &str,
        params: &[Val],
    ) -> Result<u64, StorageError> {
        with_pg_params(params, |refs| self.execute_typed(operation, sql, refs))
    }

    fn query(
        &mut self,
        operation: &'static str,
        sql: &str,
        params: &[Val],
    ) -> Result<Vec<SqlRow>, StorageError> {
        let rows = with_pg_params(params, |refs| self.query_typed(operation, sql, refs))?;
        rows.iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| pg_value(row, i))
                    .collect::<Result<Vec<_>, _>>()
                    .map(SqlRow)
                    .map_err(pg_error(operation))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_question_marks() {
        assert_eq!(
            sqlite_placeholders("SELECT a FROM t WHERE b = $1 AND c = $12"),
            "SELECT a FROM t WHERE b = ?1 AND c = ?12"
        );
        assert_eq!(sqlite_placeholders("SELECT '$'"), "SELECT '$'");
    }
}

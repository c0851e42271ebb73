//! Label columns: a column of one value on every row of every table, such as
//! `case = "INC-1234"` (`netcap export --label case=INC-1234`, `docs/parquet.md`,
//! "Label columns"). A sink ([`super::Dataset`], [`super::Batches`]) given
//! [`LabelColumns`] appends them to each batch, last and in the order given, as `utf8`
//! columns without nulls.

use std::fmt;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};

use super::{schema, Findings, Flows, Matches, Packets, Pairs, Table, TcpEvents};

/// The partition key of a table split by hour: a column of that name would clash with
/// the directory name when a reader turns `hour=…` into a column.
const PARTITION_KEYS: [&str; 1] = ["hour"];

/// Columns of one value each, appended to every row of every table.
///
/// # Examples
/// ```
/// use netcap_core::export::parquet::{LabelColumns, LabelError};
///
/// let labels = LabelColumns::new([("case", "INC-1234"), ("site", "fra1")])?;
/// assert_eq!(labels.iter().collect::<Vec<_>>(), [("case", "INC-1234"), ("site", "fra1")]);
/// assert!(matches!(LabelColumns::new([("point", "x")]), Err(LabelError::Column { .. })));
/// # Ok::<(), LabelError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelColumns(Vec<(String, String)>);

/// Why a label cannot be a column.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LabelError {
    /// The key is not a column name: a lowercase ASCII letter or `_`, then lowercase
    /// ASCII letters, digits or `_`.
    Name(String),
    /// The key is a column of `table` already.
    Column {
        /// The label's key.
        key: String,
        /// The first table that has a column of that name.
        table: &'static str,
    },
    /// The key is the name of a partition directory (`hour`).
    Partition(String),
    /// The key was given more than once.
    Twice(String),
}

impl fmt::Display for LabelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabelError::Name(k) => {
                write!(f, "`{k}` is not a column name (a lowercase letter or _, then lowercase letters, digits or _)")
            }
            LabelError::Column { key, table } => write!(f, "`{key}` is a column of the {table} table already"),
            LabelError::Partition(k) => write!(f, "`{k}` names the partitions of a table split by {k}"),
            LabelError::Twice(k) => write!(f, "`{k}` is given twice"),
        }
    }
}

impl std::error::Error for LabelError {}

/// Whether `key` is a column name as label columns allow: `[a-z_][a-z0-9_]*`.
fn is_column_name(key: &str) -> bool {
    let mut bytes = key.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The first table that has a top-level column `key`.
fn table_with(key: &str) -> Option<&'static str> {
    fn has<T: Table>(key: &str) -> Option<&'static str> {
        // An empty builder always makes its schema; without one nothing can collide.
        let s = schema::<T>().ok()?;
        s.fields().iter().any(|f| f.name() == key).then_some(T::NAME)
    }
    has::<Packets>(key)
        .or_else(|| has::<TcpEvents>(key))
        .or_else(|| has::<Flows>(key))
        .or_else(|| has::<Findings>(key))
        .or_else(|| has::<Pairs>(key))
        .or_else(|| has::<Matches>(key))
}

impl LabelColumns {
    /// Label columns `(key, value)`, in this order.
    ///
    /// # Errors
    /// The first key that is not a column name ([`LabelError::Name`]), is a column of
    /// any table ([`LabelError::Column`]) or a partition key ([`LabelError::Partition`]),
    /// or comes a second time ([`LabelError::Twice`]).
    pub fn new<K: Into<String>, V: Into<String>>(labels: impl IntoIterator<Item = (K, V)>) -> Result<Self, LabelError> {
        let mut out: Vec<(String, String)> = Vec::new();
        for (k, v) in labels {
            let key = k.into();
            if !is_column_name(&key) {
                return Err(LabelError::Name(key));
            }
            if let Some(table) = table_with(&key) {
                return Err(LabelError::Column { key, table });
            }
            if PARTITION_KEYS.contains(&key.as_str()) {
                return Err(LabelError::Partition(key));
            }
            if out.iter().any(|(o, _)| *o == key) {
                return Err(LabelError::Twice(key));
            }
            out.push((key, v.into()));
        }
        Ok(LabelColumns(out))
    }

    /// Whether there is no label.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The labels, `(key, value)`, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// `schema` with the label columns after its own (`utf8`, never null); its
    /// metadata kept.
    pub fn schema(&self, schema: &Schema) -> SchemaRef {
        let mut fields: Vec<Arc<Field>> = schema.fields().iter().cloned().collect();
        fields.extend(self.0.iter().map(|(k, _)| Arc::new(Field::new(k, DataType::Utf8, false))));
        Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
    }

    /// `batch` with the label columns after its own, each its value on every row.
    ///
    /// # Errors
    /// A column of `batch` has the name of a label (a batch not of netcap's tables).
    pub fn apply(&self, batch: RecordBatch) -> Result<RecordBatch, ArrowError> {
        if self.0.is_empty() {
            return Ok(batch);
        }
        let rows = batch.num_rows();
        let schema = self.schema(&batch.schema());
        let mut columns = batch.columns().to_vec();
        for (_, v) in &self.0 {
            let values: ArrayRef = Arc::new(StringArray::from_iter_values(std::iter::repeat_n(v.as_str(), rows)));
            columns.push(values);
        }
        RecordBatch::try_new(schema, columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_must_be_new_column_names() {
        assert!(LabelColumns::new([("case", "INC-1234"), ("_x9", ""), ("site_2", "fra1")]).is_ok());
        assert!(LabelColumns::new(Vec::<(String, String)>::new()).is_ok_and(|l| l.is_empty()));
        for bad in ["", "Case", "9x", "case-id", "a b", "café", "x.y"] {
            assert_eq!(LabelColumns::new([(bad, "v")]), Err(LabelError::Name(bad.to_string())), "{bad:?}");
        }
        let column = |key: &str, table| Err(LabelError::Column { key: key.to_string(), table });
        assert_eq!(LabelColumns::new([("point", "v")]), column("point", "packets"));
        assert_eq!(LabelColumns::new([("events", "v")]), column("events", "tcp_events"));
        assert_eq!(LabelColumns::new([("outcome", "v")]), column("outcome", "flows"));
        assert_eq!(LabelColumns::new([("severity", "v")]), column("severity", "findings"));
        assert_eq!(LabelColumns::new([("lost", "v")]), column("lost", "pairs"));
        assert_eq!(LabelColumns::new([("prev_point", "v")]), column("prev_point", "matches"));
        // A field inside a struct column is not a column.
        assert!(LabelColumns::new([("status", "v")]).is_ok());
        assert_eq!(LabelColumns::new([("hour", "v")]), Err(LabelError::Partition("hour".to_string())));
        assert_eq!(LabelColumns::new([("a", "1"), ("b", "2"), ("a", "3")]), Err(LabelError::Twice("a".to_string())));
    }

    #[test]
    fn columns_come_last_in_order() {
        let labels = LabelColumns::new([("case", "INC-1"), ("site", "fra1")]).expect("labels");
        let base = Schema::new(vec![Field::new("n", DataType::UInt64, false)]);
        let b = RecordBatch::try_new(Arc::new(base.clone()), vec![Arc::new(arrow_array::UInt64Array::from(vec![1, 2, 3]))])
            .expect("batch");
        let b = labels.apply(b).expect("apply");
        assert_eq!(b.schema(), labels.schema(&base));
        let names: Vec<&str> = b.schema_ref().fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["n", "case", "site"]);
        let site = b.column(2).as_any().downcast_ref::<StringArray>().expect("utf8");
        assert_eq!(site.iter().collect::<Vec<_>>(), [Some("fra1"); 3]);
        assert_eq!(b.column(1).null_count(), 0);
        // No labels: the batch as it was.
        let empty = LabelColumns::default().apply(b.clone()).expect("apply");
        assert_eq!(empty, b);
    }
}

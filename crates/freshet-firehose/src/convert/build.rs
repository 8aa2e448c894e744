// SPDX-License-Identifier: Apache-2.0
//! Buffered rows of [`Cell`]s into one Arrow [`RecordBatch`], column by column, following
//! each column's [`HiveType`]. Cells were typed by the reader, so a cell of another variant
//! than the column's type can only be `Null` and is written as null.

use std::sync::Arc;

use arrow_array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array,
    Int8Array, Int16Array, Int32Array, Int64Array, ListArray, MapArray, RecordBatch, StringArray,
    StructArray, TimestampMillisecondArray,
};
use arrow_buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType, Field, Fields, SchemaRef};

use super::hive_type::HiveType;
use super::value::Cell;

const NULL: Cell = Cell::Null;

/// The batch of `rows` (each one cell per column) under `schema`.
pub(crate) fn batch(
    schema: &SchemaRef,
    columns: &[(String, HiveType)],
    rows: &[Vec<Cell>],
) -> Result<RecordBatch, ArrowError> {
    let arrays = columns
        .iter()
        .enumerate()
        .map(|(i, (_, t))| {
            let cells: Vec<&Cell> = rows.iter().map(|r| r.get(i).unwrap_or(&NULL)).collect();
            array(t, &cells)
        })
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(schema.clone(), arrays)
}

fn int(c: &Cell) -> Option<i64> {
    match c {
        Cell::Int(v) => Some(*v),
        _ => None,
    }
}

/// Narrows a value the reader already range-checked.
fn narrow<T: TryFrom<i64>>(c: &Cell) -> Option<T> {
    int(c).and_then(|v| T::try_from(v).ok())
}

fn offsets(lens: Vec<i32>) -> OffsetBuffer<i32> {
    OffsetBuffer::new(ScalarBuffer::from(lens))
}

fn overflow() -> ArrowError {
    ArrowError::ComputeError("a batch holds more than 2^31 list elements".to_owned())
}

fn array(t: &HiveType, cells: &[&Cell]) -> Result<ArrayRef, ArrowError> {
    Ok(match t {
        HiveType::String => Arc::new(StringArray::from_iter(cells.iter().map(|c| match c {
            Cell::Str(s) => Some(s.as_str()),
            _ => None,
        }))),
        HiveType::Boolean => Arc::new(BooleanArray::from_iter(cells.iter().map(|c| match c {
            Cell::Bool(b) => Some(*b),
            _ => None,
        }))),
        HiveType::TinyInt => Arc::new(Int8Array::from_iter(cells.iter().map(|c| narrow(c)))),
        HiveType::SmallInt => Arc::new(Int16Array::from_iter(cells.iter().map(|c| narrow(c)))),
        HiveType::Int => Arc::new(Int32Array::from_iter(cells.iter().map(|c| narrow(c)))),
        HiveType::BigInt => Arc::new(Int64Array::from_iter(cells.iter().map(|c| int(c)))),
        HiveType::Float => Arc::new(Float32Array::from_iter(cells.iter().map(|c| match c {
            Cell::F32(v) => Some(*v),
            _ => None,
        }))),
        HiveType::Double => Arc::new(Float64Array::from_iter(cells.iter().map(|c| match c {
            Cell::F64(v) => Some(*v),
            _ => None,
        }))),
        HiveType::Decimal(p, s) => Arc::new(
            Decimal128Array::from_iter(cells.iter().map(|c| match c {
                Cell::Dec(v) => Some(*v),
                _ => None,
            }))
            .with_precision_and_scale(*p, *s)?,
        ),
        HiveType::Date => Arc::new(Date32Array::from_iter(cells.iter().map(|c| match c {
            Cell::Date(v) => Some(*v),
            _ => None,
        }))),
        HiveType::Timestamp => Arc::new(TimestampMillisecondArray::from_iter(cells.iter().map(
            |c| match c {
                Cell::Ts(v) => Some(*v),
                _ => None,
            },
        ))),
        HiveType::Binary => Arc::new(BinaryArray::from_iter(cells.iter().map(|c| match c {
            Cell::Bin(b) => Some(b.as_slice()),
            _ => None,
        }))),
        HiveType::Array(inner) => {
            let mut lens = Vec::with_capacity(cells.len() + 1);
            lens.push(0i32);
            let mut children: Vec<&Cell> = Vec::new();
            let mut valid = Vec::with_capacity(cells.len());
            for c in cells {
                if let Cell::List(items) = c {
                    children.extend(items.iter());
                    valid.push(true);
                } else {
                    valid.push(false);
                }
                lens.push(i32::try_from(children.len()).map_err(|_| overflow())?);
            }
            let values = array(inner, &children)?;
            let field = Arc::new(Field::new("element", inner.arrow_type(), true));
            Arc::new(ListArray::try_new(
                field,
                offsets(lens),
                values,
                Some(NullBuffer::from(valid)),
            )?)
        }
        HiveType::Map(k, v) => {
            let mut lens = Vec::with_capacity(cells.len() + 1);
            lens.push(0i32);
            let (mut keys, mut vals): (Vec<&Cell>, Vec<&Cell>) = (Vec::new(), Vec::new());
            let mut valid = Vec::with_capacity(cells.len());
            for c in cells {
                if let Cell::Map(entries) = c {
                    for (key, val) in entries {
                        keys.push(key);
                        vals.push(val);
                    }
                    valid.push(true);
                } else {
                    valid.push(false);
                }
                lens.push(i32::try_from(keys.len()).map_err(|_| overflow())?);
            }
            let DataType::Map(entries_field, _) = t.arrow_type() else {
                return Err(ArrowError::SchemaError("map type expected".to_owned()));
            };
            let DataType::Struct(fields) = entries_field.data_type().clone() else {
                return Err(ArrowError::SchemaError("map entries expected".to_owned()));
            };
            let entries =
                StructArray::try_new(fields, vec![array(k, &keys)?, array(v, &vals)?], None)?;
            Arc::new(MapArray::try_new(
                entries_field,
                offsets(lens),
                entries,
                Some(NullBuffer::from(valid)),
                false,
            )?)
        }
        HiveType::Struct(fields) => {
            let valid: Vec<bool> = cells.iter().map(|c| matches!(c, Cell::Struct(_))).collect();
            let children = fields
                .iter()
                .enumerate()
                .map(|(i, (_, ft))| {
                    let sub: Vec<&Cell> = cells
                        .iter()
                        .map(|c| match c {
                            Cell::Struct(v) => v.get(i).unwrap_or(&NULL),
                            _ => &NULL,
                        })
                        .collect();
                    array(ft, &sub)
                })
                .collect::<Result<Vec<_>, _>>()?;
            let arrow_fields: Fields = fields
                .iter()
                .map(|(n, ft)| Field::new(n, ft.arrow_type(), true))
                .collect();
            Arc::new(StructArray::try_new(
                arrow_fields,
                children,
                Some(NullBuffer::from(valid)),
            )?)
        }
    })
}

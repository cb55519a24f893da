//! The cost of SQLite's and MongoDB's loose cells (`Value::shape_loose`:
//! a cell that does not shape as its field's type reads as the value it
//! holds): every non-text cell is copied before it is shaped, so that the
//! copy can answer when shaping fails. Measured on the cells a SQLite row of Chinook's
//! `invoice` decodes to (an integer key, a text date, a decimal stored as
//! a float, text), 1000 rows, against shaping without the copy.
//!
//!   cargo bench -p baas-benches --bench loose_cells

use baas_core::{FieldType, Value};
use criterion::{Criterion, criterion_group, criterion_main};

fn cells() -> Vec<(Value, FieldType)> {
    let money = FieldType::Decimal {
        precision: Some(10),
        scale: Some(2),
    };
    (0..1000)
        .flat_map(|i| {
            [
                (Value::Int(i), FieldType::Int64),
                (
                    Value::Text(format!("2021-{:02}-{:02} 00:00:00", i % 12 + 1, i % 28 + 1)),
                    FieldType::Timestamp,
                ),
                (Value::Float(1.98 + i as f64), money.clone()),
                (Value::Text(format!("Street {i}")), FieldType::Text),
            ]
        })
        .collect()
}

fn loose_cells(c: &mut Criterion) {
    let cells = cells();
    let mut group = c.benchmark_group("shape_1000_rows");
    group.bench_function("strict", |b| {
        b.iter_batched(
            || cells.clone(),
            |cells| {
                cells
                    .into_iter()
                    .map(|(v, ty)| v.shape(&ty).expect("shapes"))
                    .collect::<Vec<_>>()
            },
            criterion::BatchSize::LargeInput,
        )
    });
    group.bench_function("loose", |b| {
        b.iter_batched(
            || cells.clone(),
            |cells| {
                cells
                    .into_iter()
                    .map(|(v, ty)| v.shape_loose(&ty))
                    .collect::<Vec<_>>()
            },
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, loose_cells);
criterion_main!(benches);

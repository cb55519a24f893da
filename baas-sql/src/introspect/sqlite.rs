//! SQLite: `sqlite_master` joined with the `pragma_*` table functions
//! (columns, foreign keys, indexes); the rowid key is auto-increment.

use std::collections::HashMap;

use baas_core::{FieldType, Index, Result};

use super::{Catalog, CatalogFk, Column, Table, col, i, req, s, stmt};
use crate::backend::SqlBackend;

pub(super) async fn catalog<B: SqlBackend + ?Sized>(b: &B) -> Result<Catalog> {
    let columns = b
        .fetch(
            &stmt(
                "SELECT m.name AS tbl, m.type AS kind, m.sql AS sql, p.cid AS cid, p.name AS name, \
                 p.type AS declared, p.\"notnull\" AS not_null, p.dflt_value AS dflt, p.pk AS pk, \
                 p.hidden AS hidden \
                 FROM sqlite_master m JOIN pragma_table_xinfo(m.name) p \
                 WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
                 ORDER BY m.name, p.cid",
                vec![],
            ),
            &[
                col("tbl", FieldType::Text),
                col("kind", FieldType::Text),
                col("sql", FieldType::Text),
                col("cid", FieldType::Int64),
                col("name", FieldType::Text),
                col("declared", FieldType::Text),
                col("not_null", FieldType::Int64),
                col("dflt", FieldType::Text),
                col("pk", FieldType::Int64),
                col("hidden", FieldType::Int64),
            ],
        )
        .await?;
    let fks = b
        .fetch(
            &stmt(
                "SELECT m.name AS tbl, f.id AS id, f.\"table\" AS ref_tbl, f.\"from\" AS col, \
                 f.\"to\" AS ref_col \
                 FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f \
                 WHERE m.type = 'table' ORDER BY m.name, f.id, f.seq",
                vec![],
            ),
            &[
                col("tbl", FieldType::Text),
                col("id", FieldType::Int64),
                col("ref_tbl", FieldType::Text),
                col("col", FieldType::Text),
                col("ref_col", FieldType::Text),
            ],
        )
        .await?;
    let indexes = b
        .fetch(
            &stmt(
                "SELECT m.name AS tbl, il.name AS name, il.\"unique\" AS uniq, il.origin AS origin, \
                 il.partial AS partial, ii.name AS col \
                 FROM sqlite_master m JOIN pragma_index_list(m.name) il \
                 JOIN pragma_index_info(il.name) ii \
                 WHERE m.type = 'table' ORDER BY m.name, il.name, ii.seqno",
                vec![],
            ),
            &[
                col("tbl", FieldType::Text),
                col("name", FieldType::Text),
                col("uniq", FieldType::Int64),
                col("origin", FieldType::Text),
                col("partial", FieldType::Int64),
                col("col", FieldType::Text),
            ],
        )
        .await?;

    let mut cat = Catalog::default();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut pk_order: HashMap<usize, Vec<(i64, String)>> = HashMap::new();
    let mut table_sql: HashMap<usize, String> = HashMap::new();
    for r in &columns {
        let tbl = req(r, "tbl")?;
        let t = match by_name.get(&tbl) {
            Some(&t) => t,
            None => {
                by_name.insert(tbl.clone(), cat.tables.len());
                table_sql.insert(cat.tables.len(), s(r, "sql").unwrap_or_default());
                cat.tables.push(Table {
                    schema: None,
                    view: req(r, "kind")? == "view",
                    name: tbl,
                    ..Table::default()
                });
                cat.tables.len() - 1
            }
        };
        let name = req(r, "name")?;
        let pk = i(r, "pk");
        if pk > 0 {
            pk_order.entry(t).or_default().push((pk, name.clone()));
        }
        let hidden = i(r, "hidden");
        cat.tables[t].columns.push(Column {
            declared: s(r, "declared").unwrap_or_default(),
            // A primary-key column is NOT NULL in effect (rowid aliases always are).
            nullable: i(r, "not_null") == 0 && pk == 0,
            default: s(r, "dflt"),
            auto_increment: false,
            computed: hidden == 2 || hidden == 3,
            comment: None,
            enum_type: None,
            json: false,
            composite: false,
            name,
        });
    }
    for (t, mut pk) in pk_order {
        pk.sort();
        let cols: Vec<String> = pk.into_iter().map(|(_, n)| n).collect();
        // `INTEGER PRIMARY KEY` aliases the rowid: the database assigns it.
        let without_rowid = table_sql
            .get(&t)
            .is_some_and(|sql| sql.to_ascii_uppercase().contains("WITHOUT ROWID"));
        if let [only] = cols.as_slice()
            && !without_rowid
            && let Some(c) = cat.tables[t].columns.iter_mut().find(|c| &c.name == only)
            && c.declared.eq_ignore_ascii_case("INTEGER")
        {
            c.auto_increment = true;
        }
        cat.tables[t].primary_key = cols;
    }
    // (table, constraint id) → columns and referenced columns (None = the target's key).
    let mut grouped: Vec<(String, i64, CatalogFk, Vec<Option<String>>)> = Vec::new();
    for r in &fks {
        let tbl = req(r, "tbl")?;
        let id = i(r, "id");
        let column = req(r, "col")?;
        let ref_col = s(r, "ref_col");
        match grouped.iter_mut().find(|g| g.0 == tbl && g.1 == id) {
            Some(g) => {
                g.2.columns.push(column);
                g.3.push(ref_col);
            }
            None => {
                let fk = CatalogFk {
                    from: tbl.clone(),
                    columns: vec![column],
                    to: req(r, "ref_tbl")?,
                    ref_columns: Vec::new(),
                    name: format!("{tbl}_fk{id}"),
                };
                grouped.push((tbl, id, fk, vec![ref_col]));
            }
        }
    }
    for (_, _, mut fk, ref_cols) in grouped {
        // SQLite matches table names case-insensitively; a missing target
        // column list means the target's primary key.
        let Some(target) = cat
            .tables
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(&fk.to))
        else {
            continue;
        };
        fk.ref_columns = if ref_cols.iter().all(Option::is_some) {
            ref_cols.into_iter().flatten().collect()
        } else {
            target.primary_key.clone()
        };
        fk.to = target.name.clone();
        cat.foreign_keys.push(fk);
    }
    for r in &indexes {
        let Some(&t) = by_name.get(&req(r, "tbl")?) else {
            continue;
        };
        if s(r, "origin").as_deref() == Some("pk") {
            continue;
        }
        let name = req(r, "name")?;
        let Some(column) = s(r, "col") else {
            continue;
        };
        let unique = i(r, "uniq") == 1 && i(r, "partial") == 0;
        let indexes = &mut cat.tables[t].indexes;
        match indexes.iter_mut().find(|ix| ix.name == name) {
            Some(ix) => ix.fields.push(column),
            None => indexes.push(Index {
                name,
                fields: vec![column],
                unique,
            }),
        }
    }
    Ok(cat)
}

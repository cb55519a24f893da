//! MySQL / MariaDB: `information_schema` of the current database (MariaDB
//! JSON columns recognised by their `json_valid` check).

use std::collections::HashMap;

use baas_core::{FieldType, Index, Result};

use super::{
    Catalog, CatalogFk, CatalogFunction, CatalogParam, CatalogReturns, Column, Table, col, i, req,
    s, stmt, text_cols,
};
use crate::backend::SqlBackend;

pub(super) async fn catalog<B: SqlBackend + ?Sized>(b: &B) -> Result<Catalog> {
    let tables = b
        .fetch(
            &stmt(
                "SELECT t.TABLE_NAME AS name, t.TABLE_TYPE AS kind, t.TABLE_COMMENT AS comment, \
                 v.IS_UPDATABLE AS updatable, v.VIEW_DEFINITION AS definition, DATABASE() AS db \
                 FROM information_schema.TABLES t LEFT JOIN information_schema.VIEWS v \
                 ON v.TABLE_SCHEMA = t.TABLE_SCHEMA AND v.TABLE_NAME = t.TABLE_NAME \
                 WHERE t.TABLE_SCHEMA = DATABASE() ORDER BY t.TABLE_NAME",
                vec![],
            ),
            &text_cols(&["name", "kind", "comment", "updatable", "definition", "db"]),
        )
        .await?;
    let columns = b
        .fetch(
            &stmt(
                "SELECT TABLE_NAME AS tbl, COLUMN_NAME AS name, COLUMN_TYPE AS declared, \
                 IS_NULLABLE AS nullable, COLUMN_DEFAULT AS dflt, EXTRA AS extra, \
                 COLUMN_COMMENT AS comment \
                 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
                 ORDER BY TABLE_NAME, ORDINAL_POSITION",
                vec![],
            ),
            &text_cols(&[
                "tbl", "name", "declared", "nullable", "dflt", "extra", "comment",
            ]),
        )
        .await?;
    let keys = b
        .fetch(
            &stmt(
                "SELECT k.TABLE_NAME AS tbl, k.CONSTRAINT_NAME AS name, c.CONSTRAINT_TYPE AS kind, \
                 k.COLUMN_NAME AS col, k.REFERENCED_TABLE_NAME AS ref_tbl, \
                 k.REFERENCED_COLUMN_NAME AS ref_col \
                 FROM information_schema.KEY_COLUMN_USAGE k \
                 JOIN information_schema.TABLE_CONSTRAINTS c \
                   ON c.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND c.TABLE_NAME = k.TABLE_NAME \
                  AND c.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
                 WHERE k.TABLE_SCHEMA = DATABASE() AND c.CONSTRAINT_TYPE IN ('PRIMARY KEY', 'FOREIGN KEY') \
                 ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
                vec![],
            ),
            &text_cols(&["tbl", "name", "kind", "col", "ref_tbl", "ref_col"]),
        )
        .await?;
    let stats = b
        .fetch(
            &stmt(
                "SELECT TABLE_NAME AS tbl, INDEX_NAME AS name, NON_UNIQUE AS non_unique, \
                 COLUMN_NAME AS col \
                 FROM information_schema.STATISTICS \
                 WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME <> 'PRIMARY' \
                 ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
                vec![],
            ),
            &[
                col("tbl", FieldType::Text),
                col("name", FieldType::Text),
                col("non_unique", FieldType::Int64),
                col("col", FieldType::Text),
            ],
        )
        .await?;
    // MariaDB's JSON is LONGTEXT with a `json_valid` check; MySQL has no
    // TABLE_NAME here (it has a real JSON type), so a failure just means "none".
    let checks = b
        .fetch(
            &stmt(
                "SELECT TABLE_NAME AS tbl, CHECK_CLAUSE AS clause \
                 FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()",
                vec![],
            ),
            &text_cols(&["tbl", "clause"]),
        )
        .await
        .unwrap_or_default();
    let json_cols: Vec<(String, String)> = checks
        .iter()
        .filter_map(|r| {
            let clause = s(r, "clause")?;
            let inner = clause.strip_prefix("json_valid(`")?.strip_suffix("`)")?;
            Some((s(r, "tbl")?, inner.to_string()))
        })
        .collect();

    let mut cat = Catalog::default();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for r in &tables {
        let name = req(r, "name")?;
        // Where the view's columns come from (empty without the `SHOW
        // VIEW` privilege: then the view has no key nor relations).
        if let (Some(def), Some(db)) = (s(r, "definition"), s(r, "db")) {
            let lineage = super::mysql_views::lineage(&db, &def);
            for (vcol, table, col) in lineage.columns {
                cat.view_columns.push((name.clone(), vcol, table, col));
            }
            // The tables it reads, by no column in particular.
            for table in lineage.tables {
                cat.view_usage.push((name.clone(), table, String::new()));
            }
        }
        by_name.insert(name.clone(), cat.tables.len());
        cat.tables.push(Table {
            schema: None,
            view: req(r, "kind")?.contains("VIEW"),
            // An updatable view (MySQL's `IS_UPDATABLE`) is written like a
            // table; the server refuses what it cannot write.
            updatable: s(r, "updatable").is_some_and(|u| u == "YES"),
            comment: s(r, "comment").filter(|c| !c.is_empty() && c != "VIEW"),
            name,
            ..Table::default()
        });
    }
    for r in &columns {
        let Some(&t) = by_name.get(&req(r, "tbl")?) else {
            continue;
        };
        let name = req(r, "name")?;
        let extra = s(r, "extra").unwrap_or_default().to_ascii_lowercase();
        // MariaDB reports a NULL default as the text `NULL`.
        let default = s(r, "dflt").filter(|d| d != "NULL");
        let json = json_cols
            .iter()
            .any(|(tbl, c)| tbl == &cat.tables[t].name && c == &name);
        cat.tables[t].columns.push(Column {
            declared: req(r, "declared")?,
            nullable: s(r, "nullable").is_some_and(|n| n == "YES"),
            default,
            auto_increment: extra.contains("auto_increment"),
            computed: extra.contains("generated") && !extra.contains("default_generated"),
            comment: s(r, "comment").filter(|c| !c.is_empty()),
            enum_type: None,
            json,
            composite: false,
            name,
        });
    }
    let mut fks: Vec<CatalogFk> = Vec::new();
    for r in &keys {
        let tbl = req(r, "tbl")?;
        let Some(&t) = by_name.get(&tbl) else {
            continue;
        };
        let column = req(r, "col")?;
        if req(r, "kind")? == "PRIMARY KEY" {
            cat.tables[t].primary_key.push(column);
            continue;
        }
        let name = req(r, "name")?;
        let ref_tbl = req(r, "ref_tbl")?;
        let ref_col = req(r, "ref_col")?;
        match fks.iter_mut().find(|f| f.from == tbl && f.name == name) {
            Some(f) => {
                f.columns.push(column);
                f.ref_columns.push(ref_col);
            }
            None => fks.push(CatalogFk {
                from: tbl,
                columns: vec![column],
                to: ref_tbl,
                ref_columns: vec![ref_col],
                name,
            }),
        }
    }
    cat.foreign_keys.extend(fks);
    for r in &stats {
        let Some(&t) = by_name.get(&req(r, "tbl")?) else {
            continue;
        };
        let name = req(r, "name")?;
        let Some(column) = s(r, "col") else {
            // Functional key part: not a plain-column index.
            continue;
        };
        let unique = i(r, "non_unique") == 0;
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
    cat.functions = functions(b).await?;
    Ok(cat)
}

/// The stored functions and procedures of the current database that a
/// call reaches, their `IN` (and a procedure's `INOUT`) parameters called
/// by position in declared order (MySQL has no named arguments and no
/// defaults, so every parameter is required); a function's scalar
/// result, a procedure's first result set ([`Returns::Procedure`](baas_core::function::Returns::Procedure)).
/// Volatility from the characteristics: `DETERMINISTIC` with `NO SQL` /
/// `CONTAINS SQL` is immutable, `READS SQL DATA` stable, anything else
/// volatile (POST only). A procedure's `OUT` and `INOUT` parameters are
/// its answer (one object of their values; an `INOUT` one is also an
/// argument); a procedure named like a function is left out (one API
/// name).
async fn functions<B: SqlBackend + ?Sized>(b: &B) -> Result<Vec<CatalogFunction>> {
    let routines = b
        .fetch(
            &stmt(
                "SELECT ROUTINE_SCHEMA AS db, ROUTINE_NAME AS name, ROUTINE_TYPE AS kind, \
                 DTD_IDENTIFIER AS returns, IS_DETERMINISTIC AS det, SQL_DATA_ACCESS AS access, \
                 ROUTINE_COMMENT AS comment \
                 FROM information_schema.ROUTINES \
                 WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_TYPE IN ('FUNCTION', 'PROCEDURE') \
                 ORDER BY ROUTINE_TYPE, ROUTINE_NAME",
                vec![],
            ),
            &text_cols(&["db", "name", "kind", "returns", "det", "access", "comment"]),
        )
        .await?;
    let params = b
        .fetch(
            &stmt(
                "SELECT SPECIFIC_NAME AS fn, ROUTINE_TYPE AS kind, PARAMETER_NAME AS name, \
                 DTD_IDENTIFIER AS declared, PARAMETER_MODE AS mode \
                 FROM information_schema.PARAMETERS \
                 WHERE SPECIFIC_SCHEMA = DATABASE() AND ORDINAL_POSITION > 0 \
                 ORDER BY SPECIFIC_NAME, ORDINAL_POSITION",
                vec![],
            ),
            &text_cols(&["fn", "kind", "name", "declared", "mode"]),
        )
        .await?;
    let mut out = Vec::new();
    for r in &routines {
        let name = req(r, "name")?;
        let kind = req(r, "kind")?;
        let procedure = kind == "PROCEDURE";
        if procedure && out.iter().any(|f: &CatalogFunction| f.name == name) {
            continue;
        }
        let mine: Vec<_> = params
            .iter()
            .filter(|p| {
                s(p, "fn").as_deref() == Some(name.as_str())
                    && s(p, "kind").as_deref() == Some(&kind)
            })
            .collect();
        // `IN` parameters are arguments; a procedure's `OUT` ones are its
        // answer; `INOUT` ones both.
        let mode = |p: &crate::backend::Row| s(p, "mode").unwrap_or_else(|| "IN".into());
        let is_in = |p: &crate::backend::Row| mode(p) != "OUT";
        if mine.iter().any(|p| {
            s(p, "name").is_none()
                || !(mode(p) == "IN" || (procedure && matches!(mode(p).as_str(), "OUT" | "INOUT")))
        }) {
            continue;
        }
        let mut outs = Vec::new();
        for (position, p) in mine.iter().enumerate() {
            if mode(p) != "IN" {
                outs.push((
                    position,
                    req(p, "name")?,
                    req(p, "declared")?,
                    mode(p) == "INOUT",
                ));
            }
        }
        let access = s(r, "access").unwrap_or_default();
        let volatility = match (s(r, "det").as_deref(), access.as_str()) {
            (Some("YES"), "NO SQL" | "CONTAINS SQL") => "i",
            (_, "READS SQL DATA") => "s",
            _ => "v",
        };
        out.push(CatalogFunction {
            row_of: None,
            callable: true,
            schema: req(r, "db")?,
            name,
            volatility: volatility.into(),
            set: false,
            one_row: false,
            params: mine
                .iter()
                .filter(|p| is_in(p))
                .map(|p| {
                    Ok(CatalogParam {
                        name: req(p, "name")?,
                        ty: req(p, "declared")?,
                        optional: false,
                        variadic: false,
                        row: None,
                    })
                })
                .collect::<Result<_>>()?,
            returns: if procedure {
                CatalogReturns::Procedure(outs)
            } else {
                CatalogReturns::Scalar(req(r, "returns")?)
            },
            comment: s(r, "comment").filter(|c| !c.is_empty()),
        });
    }
    Ok(out)
}

//! # baas-core
//!
//! The contracts of mini-baas: the metadata model ([`SchemaMetadata`]), the
//! dynamic query IR ([`ir`]), grants ([`access`]), validation of IR against
//! metadata, capabilities, limits and grants into a [`Checked`] proof
//! ([`validate`]), the [`DatabaseAdapter`] trait every engine implements
//! (it executes checked requests), the read orchestration every engine
//! shares (embeds, counts, the row budget: [`read`]), the value type and
//! JSON normalisation rules ([`value`]), secret redaction ([`redact`]) and
//! the semantic [`Error`] enum.
//!
//! Nothing here knows SQL, BSON or HTTP, and nothing needs an async runtime.
//!
//! ```
//! use baas_core::{Entity, Field, FieldType, SchemaMetadata, Target, Capabilities};
//! use baas_core::ir::{Filter, Query};
//! use baas_core::validate::{Limits, Validator};
//!
//! let schema = SchemaMetadata::new(vec![Entity::new(
//!     "artist",
//!     vec![
//!         Field::new("artist_id", FieldType::Int32),
//!         Field::new("name", FieldType::Text).nullable(),
//!     ],
//! )
//! .with_primary_key(["artist_id"])]);
//! let target = Target::new(&schema, "artist").unwrap();
//! let caps = Capabilities::minimal("example");
//! let limits = Limits::default();
//! let v = Validator::new(target, &caps, &limits);
//!
//! assert!(v.query(Query::new("artist").filter(Filter::eq("name", "AC/DC"))).is_ok());
//! let err = v.query(Query::new("artist").filter(Filter::eq("artist_id", "x"))).unwrap_err();
//! assert_eq!(err.code(), "validation");
//! ```
#![warn(missing_docs)]

pub mod access;
pub mod adapter;
pub mod error;
pub mod eval;
pub mod function;
pub mod ir;
pub mod json_schema;
pub mod jsonb_order;
pub mod metadata;
pub mod read;
pub mod redact;
pub mod relations;
pub mod text_query;
pub mod validate;
pub mod value;
pub mod zone;

pub use access::{Access, Action, FieldSet, Grant, Grants};
pub use adapter::{
    AsWritten, Capabilities, DatabaseAdapter, DatabaseAdapterExt, Explain, IntrospectOptions,
    PlanFormat, PlanOptions, Row, SchemaChange, Session, Target, WriteCheck, WriteFinish,
};
pub use error::{ConflictKind, Error, NotFoundKind, Raised, Result, Violation, sqlstate};
pub use metadata::{
    Entity, Field, FieldType, Generated, Index, IntRange, Relation, RelationKind, SchemaMetadata,
    Source, Through,
};
pub use validate::{Checked, CheckedWrite, TypedRecord};
pub use value::Value;

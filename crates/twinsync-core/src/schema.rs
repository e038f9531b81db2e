//! JSON Schemas (feature `schema`) of the types whose serde impls are written by hand, so
//! the schemas derived for the reports and records that hold them say what serde writes:
//! a key, a digest and a time are strings, test kinds a set, variants objects of axis
//! name to option value. A face that publishes schemas (the HTTP server's OpenAPI
//! document) turns the feature on; nothing else pays for it.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

use crate::clock::Timestamp;
use crate::coverage::{TestKind, TestKinds, Variant, VariantList};
use crate::digest::Digest;
use crate::key::Key;

impl JsonSchema for Key {
    fn schema_name() -> Cow<'static, str> {
        "Key".into()
    }
    fn schema_id() -> Cow<'static, str> {
        "twinsync_core::Key".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "minLength": 1,
            "description": "An item key: a relative path (`/`-separated, never `..`) or an id",
        })
    }
}

impl JsonSchema for Digest {
    fn schema_name() -> Cow<'static, str> {
        "Digest".into()
    }
    fn schema_id() -> Cow<'static, str> {
        "twinsync_core::Digest".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^sha256:[0-9a-f]{64}$",
            "description": "SHA-256 of the canonical content",
        })
    }
}

impl JsonSchema for Timestamp {
    fn schema_name() -> Cow<'static, str> {
        "Timestamp".into()
    }
    fn schema_id() -> Cow<'static, str> {
        "twinsync_core::Timestamp".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "format": "date-time", "description": "RFC 3339, UTC" })
    }
}

impl JsonSchema for TestKinds {
    fn schema_name() -> Cow<'static, str> {
        "TestKinds".into()
    }
    fn schema_id() -> Cow<'static, str> {
        "twinsync_core::coverage::TestKinds".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "array", "items": g.subschema_for::<TestKind>(), "uniqueItems": true })
    }
}

impl JsonSchema for Variant {
    fn schema_name() -> Cow<'static, str> {
        "Variant".into()
    }
    fn schema_id() -> Cow<'static, str> {
        "twinsync_core::coverage::Variant".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "additionalProperties": true,
            "description": "One variant: each axis's name to the option it takes",
        })
    }
}

impl JsonSchema for VariantList {
    fn schema_name() -> Cow<'static, str> {
        "VariantList".into()
    }
    fn schema_id() -> Cow<'static, str> {
        "twinsync_core::coverage::VariantList".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "array", "items": g.subschema_for::<Variant>() })
    }
}

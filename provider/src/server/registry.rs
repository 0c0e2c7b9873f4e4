//! The provider's types, with their schemas computed once at start-up.

use std::collections::HashMap;
use std::sync::Arc;

use crate::cty::Type;
use crate::framework::{DataSource, ProviderDef, Resource, Schema};

pub struct Entry<T: ?Sized> {
    pub imp: Arc<T>,
    pub schema: Schema,
    pub ty: Type,
}

pub struct Registry {
    pub def: Arc<dyn ProviderDef>,
    pub provider_schema: Schema,
    pub provider_ty: Type,
    pub resources: HashMap<String, Entry<dyn Resource>>,
    pub data_sources: HashMap<String, Entry<dyn DataSource>>,
}

impl Registry {
    pub fn new(def: Arc<dyn ProviderDef>) -> Self {
        let provider_schema = def.schema();
        let provider_ty = provider_schema.value_type();
        let resources = def
            .resources()
            .into_iter()
            .map(|r| {
                let schema = r.schema();
                let ty = schema.value_type();
                (r.type_name().to_string(), Entry { imp: r, schema, ty })
            })
            .collect();
        let data_sources = def
            .data_sources()
            .into_iter()
            .map(|d| {
                let schema = d.schema();
                let ty = schema.value_type();
                (d.type_name().to_string(), Entry { imp: d, schema, ty })
            })
            .collect();
        Registry { def, provider_schema, provider_ty, resources, data_sources }
    }
}

//! An endpoint's slice of the aggregate: the tools, prompts and resources of the servers it
//! includes that its globs admit, with its overrides applied. Names and URIs keep the form
//! they have in the aggregate (what `[[policy]]` globs match), except where an override renames.

use super::{resource_sources, Catalog, NameIndex, Named, ResourceIndex, Upstream};
use crate::config::Endpoint;
use serde_json::value::RawValue;
use std::collections::HashSet;
use std::sync::Arc;

impl Catalog {
    /// What endpoint `e` shows of this aggregate (built from `ups`, the same upstreams);
    /// `listed`/`only_listed` as for [`Catalog::build`], for the endpoint's own `expose` mode.
    pub fn slice(
        &self,
        ups: &[Upstream<'_>],
        e: &Endpoint,
        listed: &[Box<RawValue>],
        only_listed: bool,
    ) -> Catalog {
        let shown = |t: &&Named| e.has_server(t.server) && e.admits(&t.exposed);
        let prompts = NameIndex::of(self.prompts.items().iter().filter(shown).cloned().collect());
        let resources = ResourceIndex::build(&resource_sources(ups, |i| e.has_server(i)))
            .only(|i| e.has_server(i), |uri| e.admits(uri));
        let tools = NameIndex::of(overridden(self.tools.items().iter().filter(shown), e));
        Catalog::assemble(tools, prompts, resources, listed, only_listed)
    }
}

/// The endpoint's tools with its overrides applied. A new name another tool of the endpoint
/// already has leaves the renamed tool out (logged): it is never shown under its old name.
fn overridden<'a>(tools: impl Iterator<Item = &'a Named>, e: &Endpoint) -> Vec<Named> {
    let tools: Vec<&Named> = tools.collect();
    let mut taken: HashSet<Arc<str>> = tools
        .iter()
        .filter(|t| !e.renames(&t.exposed))
        .map(|t| t.exposed.clone())
        .collect();
    tools
        .into_iter()
        .filter_map(|t| {
            let Some(o) = e.overrides.get(&t.exposed) else {
                return Some(t.clone());
            };
            if let Some(new) = &o.name {
                if !taken.insert(new.clone()) {
                    tracing::warn!(endpoint = %e.name, tool = %t.exposed, name = %new, "an override renames a tool to a name the endpoint already has; the tool is left out");
                    return None;
                }
            }
            t.overridden(o).or_else(|| Some(t.clone()))
        })
        .collect()
}

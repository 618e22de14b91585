//! The merged catalog: tools and prompts under exposed names, resources under exposed URIs, and
//! the lookups back to (server, original). Immutable; rebuilt whole when an upstream's list changes.

mod index;
pub mod naming;
pub mod page;
mod uris;
mod view;

pub use index::{Collision, NameIndex, Named, Source};
pub use uris::{scheme_prefix, ResourceIndex, ResourceSource};

use crate::upstream::{ListKind, Lists};
use serde_json::value::RawValue;
use std::sync::Arc;

/// One upstream as the catalog sees it.
pub struct Upstream<'a> {
    /// Server name.
    pub server: &'a Arc<str>,
    /// Whether names and URIs are prefixed.
    pub prefix: bool,
    /// Its cached lists.
    pub lists: &'a Lists,
    /// Whether it offers resources.
    pub offers_resources: bool,
}

/// Each upstream's resources, those of servers `has` leaves out emptied (their prefixes are
/// still allocated, so every URI keeps the form it has in the aggregate).
fn resource_sources<'a>(
    ups: &'a [Upstream<'a>],
    has: impl Fn(usize) -> bool,
) -> Vec<ResourceSource<'a>> {
    ups.iter()
        .enumerate()
        .map(|(i, u)| {
            let shown = has(i);
            let of = |kind| if shown { u.lists.get(kind) } else { &[][..] };
            ResourceSource {
                server: u.server,
                prefix: u.prefix,
                resources: of(ListKind::Resources),
                templates: of(ListKind::Templates),
                offers: u.offers_resources && shown,
            }
        })
        .collect()
}

/// Everything the gateway exposes.
#[derive(Debug, Default)]
pub struct Catalog {
    /// Tools.
    pub tools: NameIndex,
    /// Prompts.
    pub prompts: NameIndex,
    /// Resources and templates.
    pub resources: ResourceIndex,
    tool_json: Vec<Box<RawValue>>,
    prompt_json: Vec<Box<RawValue>>,
}

impl Catalog {
    /// Upstream `server`'s tool by its own name.
    pub fn tool_by_original(&self, server: usize, original: &str) -> Option<&index::Named> {
        self.tools
            .items()
            .iter()
            .find(|t| t.server == server && &*t.original == original)
    }

    /// Merge every upstream (configuration order: earlier servers win name ties). `listed` is
    /// what `tools/list` shows besides (or, with `only_listed`, instead of) the upstream tools:
    /// the gateway's own tools.
    pub fn build(
        ups: &[Upstream<'_>],
        separator: &str,
        max_len: usize,
        listed: &[Box<RawValue>],
        only_listed: bool,
    ) -> (Catalog, Vec<Collision>) {
        let sources = |kind| -> Vec<Source<'_>> {
            ups.iter()
                .map(|u| Source {
                    server: u.server,
                    prefix: u.prefix,
                    items: u.lists.get(kind),
                })
                .collect()
        };
        let (tools, mut collisions) =
            NameIndex::build(&sources(ListKind::Tools), separator, max_len);
        let (prompts, c2) = NameIndex::build(&sources(ListKind::Prompts), separator, max_len);
        collisions.extend(c2);
        let resources = ResourceIndex::build(&resource_sources(ups, |_| true));
        let catalog = Catalog::assemble(tools, prompts, resources, listed, only_listed);
        (catalog, collisions)
    }

    /// The catalog of its parts; `tools/list` shows `listed` before (or instead of) `tools`.
    fn assemble(
        tools: NameIndex,
        prompts: NameIndex,
        resources: ResourceIndex,
        listed: &[Box<RawValue>],
        only_listed: bool,
    ) -> Catalog {
        let mut tool_json: Vec<Box<RawValue>> = listed.to_vec();
        if !only_listed {
            tool_json.extend(tools.items().iter().map(|t| t.json.clone()));
        }
        let prompt_json = prompts.items().iter().map(|t| t.json.clone()).collect();
        Catalog {
            tools,
            prompts,
            resources,
            tool_json,
            prompt_json,
        }
    }

    /// `kind`'s items, as listed.
    fn items(&self, kind: ListKind) -> &[Box<RawValue>] {
        match kind {
            ListKind::Tools => &self.tool_json,
            ListKind::Prompts => &self.prompt_json,
            ListKind::Resources => &self.resources.resources,
            ListKind::Templates => &self.resources.templates,
        }
    }

    /// Whether `kind`'s list reads the same in `other` (a reload tells clients only of the lists
    /// that changed).
    pub fn lists_alike(&self, other: &Catalog, kind: ListKind) -> bool {
        let (a, b) = (self.items(kind), other.items(kind));
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.get() == y.get())
    }

    /// One page of a list result, raw JSON text.
    pub fn page(
        &self,
        kind: ListKind,
        cursor: Option<&str>,
        size: usize,
    ) -> Result<String, String> {
        page::render(self.items(kind), kind.member(), cursor, size)
    }

    /// A page of `kind` holding only the items whose exposed name (or URI, or URI template)
    /// `keep` accepts; cursors count within what is kept.
    pub fn page_where(
        &self,
        kind: ListKind,
        cursor: Option<&str>,
        size: usize,
        keep: impl Fn(&str) -> bool,
    ) -> Result<String, String> {
        let (items, key) = match kind {
            ListKind::Tools => (&self.tool_json, "name"),
            ListKind::Prompts => (&self.prompt_json, "name"),
            ListKind::Resources => (&self.resources.resources, "uri"),
            ListKind::Templates => (&self.resources.templates, "uriTemplate"),
        };
        let kept: Vec<&RawValue> = items
            .iter()
            .map(|i| &**i)
            .filter(|i| crate::jsonrpc::string_member(Some(i.get()), key).is_some_and(|n| keep(&n)))
            .collect();
        page::render(&kept, kind.member(), cursor, size)
    }
}

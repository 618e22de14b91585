//! Fetching an upstream's whole lists (every page): tools, prompts, resources, resource templates.

use super::Connection;
use crate::call::Failure;
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::sync::Arc;

/// Most pages the gateway follows in one list (an upstream whose cursors never end is broken).
const MAX_PAGES: usize = 1000;

/// One listed item as the upstream described it: its key (name or URI) and the whole object.
#[derive(Debug, Clone)]
pub struct Item {
    /// `name` (tools, prompts), `uri` (resources) or `uriTemplate` (templates).
    pub key: Arc<str>,
    /// The full object, untouched (fields the gateway does not know included).
    pub raw: Arc<RawValue>,
}

/// The four lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListKind {
    /// `tools/list`
    Tools,
    /// `prompts/list`
    Prompts,
    /// `resources/list`
    Resources,
    /// `resources/templates/list`
    Templates,
}

impl ListKind {
    /// Every kind.
    pub const ALL: [ListKind; 4] = [
        ListKind::Tools,
        ListKind::Prompts,
        ListKind::Resources,
        ListKind::Templates,
    ];

    /// The list method.
    pub fn method(self) -> &'static str {
        match self {
            ListKind::Tools => "tools/list",
            ListKind::Prompts => "prompts/list",
            ListKind::Resources => "resources/list",
            ListKind::Templates => "resources/templates/list",
        }
    }

    /// The member holding the array.
    pub fn member(self) -> &'static str {
        match self {
            ListKind::Tools => "tools",
            ListKind::Prompts => "prompts",
            ListKind::Resources => "resources",
            ListKind::Templates => "resourceTemplates",
        }
    }

    /// The field that identifies an item.
    pub fn key(self) -> &'static str {
        match self {
            ListKind::Tools | ListKind::Prompts => "name",
            ListKind::Resources => "uri",
            ListKind::Templates => "uriTemplate",
        }
    }

    /// The notification that says this list changed, if any.
    pub fn from_notification(method: &str) -> Option<&'static [ListKind]> {
        match method {
            "notifications/tools/list_changed" => Some(&[ListKind::Tools]),
            "notifications/prompts/list_changed" => Some(&[ListKind::Prompts]),
            "notifications/resources/list_changed" => {
                Some(&[ListKind::Resources, ListKind::Templates])
            }
            _ => None,
        }
    }
}

/// All lists of one upstream.
#[derive(Debug, Clone, Default)]
pub struct Lists {
    /// Per kind, in the upstream's order.
    pub items: HashMap<ListKind, Arc<Vec<Item>>>,
}

impl Lists {
    /// One kind's items (empty if the upstream does not offer it).
    pub fn get(&self, kind: ListKind) -> &[Item] {
        self.items.get(&kind).map_or(&[], |v| v.as_slice())
    }
}

/// Fetch every page of one list.
pub async fn fetch(conn: &Connection, kind: ListKind) -> Result<Vec<Item>, Failure> {
    let offers = conn.init().offers;
    let offered = match kind {
        ListKind::Tools => offers.tools,
        ListKind::Prompts => offers.prompts,
        ListKind::Resources | ListKind::Templates => offers.resources,
    };
    if !offered {
        return Ok(Vec::new());
    }
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let params = cursor
            .as_ref()
            .map(|c| serde_json::json!({ "cursor": c }).to_string());
        let reply = conn.request(kind.method(), params.as_deref()).await?;
        if reply.is_error() {
            // A server may announce resources but not templates: an error here means an empty list.
            if kind == ListKind::Templates {
                return Ok(Vec::new());
            }
            return Err(Failure::protocol(format!(
                "{} failed: {}",
                kind.method(),
                reply.payload()
            )));
        }
        let mut page: HashMap<String, Box<RawValue>> = serde_json::from_str(reply.payload())
            .map_err(|e| Failure::protocol(format!("bad {} result: {e}", kind.method())))?;
        let array: Vec<Box<RawValue>> = match page.remove(kind.member()) {
            Some(a) => serde_json::from_str(a.get())
                .map_err(|e| Failure::protocol(format!("bad {} result: {e}", kind.method())))?,
            None => Vec::new(),
        };
        for raw in array {
            let key = serde_json::from_str::<HashMap<String, Box<RawValue>>>(raw.get())
                .ok()
                .and_then(|m| {
                    m.get(kind.key())
                        .and_then(|v| serde_json::from_str::<String>(v.get()).ok())
                });
            match key {
                Some(k) => items.push(Item {
                    key: Arc::from(k),
                    raw: Arc::from(raw),
                }),
                None => {
                    tracing::warn!(server = %conn.server(), list = kind.method(), "skipping an item without {:?}", kind.key())
                }
            }
        }
        let next: Option<String> = page
            .get("nextCursor")
            .and_then(|c| serde_json::from_str(c.get()).ok());
        match next {
            Some(c) if !c.is_empty() && Some(&c) != cursor.as_ref() => cursor = Some(c),
            _ => return Ok(items),
        }
    }
    Err(Failure::protocol(format!(
        "{} did not end after {MAX_PAGES} pages",
        kind.method()
    )))
}

/// Fetch every list the upstream offers.
pub async fn fetch_all(conn: &Connection) -> Result<Lists, Failure> {
    let mut lists = Lists::default();
    for kind in ListKind::ALL {
        lists.items.insert(kind, Arc::new(fetch(conn, kind).await?));
    }
    Ok(lists)
}

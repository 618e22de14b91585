//! What each face shows: the aggregate, and each named endpoint's slice of it, each with the
//! router built from what it shows, over the configuration, upstreams and policy they were built
//! from. Replaced whole on every catalog rebuild and every reload; a client reads the view of
//! its endpoint once per request, so one request sees one generation (its upstream indices
//! always name the upstreams they were built over).

use super::pinning::Held;
use super::Pool;
use crate::catalog::Catalog;
use crate::config::{Config, Endpoint};
use crate::policy::Policy;
use crate::router::Router;
use std::sync::Arc;

/// One endpoint's (or the aggregate's) catalog and router.
pub struct View {
    /// What it lists and resolves.
    pub catalog: Arc<Catalog>,
    /// What scores prompts against it (`find_tools`, `/analyze`, `/route`).
    pub router: Arc<Router>,
    /// Whether `tools/list` shows only the gateway's search tools.
    pub lean: bool,
    /// The endpoint (`None`: the aggregate).
    pub endpoint: Option<Endpoint>,
    /// The upstreams its catalog's indices name.
    pub pool: Arc<Pool>,
    /// The aggregate it is a slice of (for an endpoint: to tell a name it leaves out from an
    /// unknown one).
    whole: Option<Arc<Catalog>>,
}

impl View {
    /// The aggregate's view.
    pub fn whole(catalog: Arc<Catalog>, router: Arc<Router>, lean: bool, pool: &Arc<Pool>) -> View {
        View {
            catalog,
            router,
            lean,
            endpoint: None,
            pool: pool.clone(),
            whole: None,
        }
    }

    /// Endpoint `e`'s slice of `whole`.
    pub fn slice(
        e: &Endpoint,
        whole: &Arc<Catalog>,
        catalog: Catalog,
        router: Router,
        pool: &Arc<Pool>,
    ) -> View {
        View {
            catalog: Arc::new(catalog),
            router: Arc::new(router),
            lean: e.expose == crate::config::Expose::Search,
            endpoint: Some(e.clone()),
            pool: pool.clone(),
            whole: Some(whole.clone()),
        }
    }

    /// The aggregate's name for `name` as this view shows it (what policy decides on), or
    /// `None` when the view leaves it out: another server's, excluded, or a renamed tool's
    /// old name. A name unknown everywhere is left to the globs (refused like policy refuses).
    pub fn admitted<'n>(&'n self, name: &'n str) -> Option<&'n str> {
        let Some(e) = &self.endpoint else {
            return Some(name);
        };
        let name = match e.renamed_from(name) {
            Some(old) => &**old,
            None if e.renames(name) => return None,
            None => name,
        };
        (e.admits(name) && !self.elsewhere(e, name)).then_some(name)
    }

    /// Whether the aggregate has `name` (a tool, a prompt, a resource URI) on a server the
    /// endpoint leaves out.
    fn elsewhere(&self, e: &Endpoint, name: &str) -> bool {
        let Some(whole) = &self.whole else {
            return false;
        };
        let server = whole
            .tools
            .get(name)
            .or_else(|| whole.prompts.get(name))
            .map(|t| t.server)
            .or_else(|| {
                name.contains(':')
                    .then(|| whole.resources.route(name).map(|(s, _)| s))
                    .flatten()
            });
        server.is_some_and(|s| !e.has_server(s))
    }

    /// Why a name this view leaves out is refused.
    pub fn absent(&self, name: &str) -> Option<String> {
        let e = self.endpoint.as_ref()?;
        self.admitted(name)
            .is_none()
            .then(|| format!("{name:?} is not offered by endpoint {:?}", e.name))
    }
}

/// Every view of one catalog generation, and what they were built over.
pub struct Views {
    /// The configuration.
    pub config: Arc<Config>,
    /// Its upstreams.
    pub pool: Arc<Pool>,
    /// Its policy.
    pub policy: Arc<Policy>,
    /// The tools held out of every view (awaiting approval, or screened out).
    pub held: Vec<Held>,
    /// The aggregate's.
    pub whole: Arc<View>,
    /// Each endpoint's, in configuration order.
    pub named: Vec<Arc<View>>,
    /// What a client of an endpoint no longer configured sees: nothing.
    pub closed: Arc<View>,
}

impl Views {
    /// Views that show nothing yet (before the first build).
    pub fn empty(config: Arc<Config>, pool: Arc<Pool>, policy: Arc<Policy>) -> Views {
        let router = Arc::new(Router::build(&config, None));
        let nothing = Arc::new(View::whole(Arc::default(), router, false, &pool));
        Views {
            config,
            pool,
            policy,
            held: Vec::new(),
            whole: nothing.clone(),
            named: Vec::new(),
            closed: nothing,
        }
    }

    /// Each endpoint as `/servers` and `switchboard check` describe it: its path, how much it
    /// shows, and the overrides that name no tool of the aggregate (a typo does nothing else).
    pub fn report(&self) -> Vec<serde_json::Value> {
        self.named
            .iter()
            .filter_map(|v| {
                let e = v.endpoint.as_ref()?;
                let mut unmatched: Vec<&str> = e
                    .overrides
                    .keys()
                    .filter(|k| self.whole.catalog.tools.get(k).is_none())
                    .map(|k| &**k)
                    .collect();
                unmatched.sort_unstable();
                Some(serde_json::json!({
                    "endpoint": &*e.name,
                    "path": format!("/mcp/{}", e.name),
                    "tools": v.catalog.tools.items().len(),
                    "prompts": v.catalog.prompts.items().len(),
                    "resources": v.catalog.resources.resources.len(),
                    "unmatched_overrides": unmatched,
                }))
            })
            .collect()
    }

    /// The view of endpoint `name` (`None`: the aggregate's).
    pub fn of(&self, name: Option<&str>) -> Option<&Arc<View>> {
        match name {
            None => Some(&self.whole),
            Some(n) => self
                .named
                .iter()
                .find(|v| v.endpoint.as_ref().is_some_and(|e| &*e.name == n)),
        }
    }
}

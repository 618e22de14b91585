//! Counting one prompt's evidence into a [`Tally`]: keyword, typo and thing-in-the-prompt
//! matches, each credited to its servers (and tools) once.

use super::*;

impl Engine {
    /// A word with a typo of term `t`: [`fuzzy::FACTOR`] of the term's points to each of its
    /// servers that the term did not already score for, shown as `fuzzy`.
    pub(super) fn count_fuzzy(&self, tally: &mut Tally, start: usize, end: usize, t: usize) {
        for &(server, weight, kind, tool) in &self.terms[t].hits {
            if kind == Kind::Negative || !tally.counted.insert((server, t, kind)) {
                continue;
            }
            let points = (weight * fuzzy::FACTOR * 1000.0).round() / 1000.0;
            let term = self.terms[t].text.clone();
            let m = Match::new(Kind::Fuzzy, term, (start, end), points);
            self.credit(tally, server, tool, m);
        }
    }

    /// One kept keyword match: its points to every server the term belongs to (once per server
    /// and kind, however often it occurs), and catalog points to its tool.
    pub(super) fn count_keyword(
        &self,
        tally: &mut Tally,
        (start, end, t): (usize, usize, usize),
        shared: bool,
    ) {
        for &(server, weight, kind, tool) in &self.terms[t].hits {
            if let Some(tool) = tool {
                *tally.tool_points.entry((server, tool)).or_default() += weight;
            }
            if !tally.counted.insert((server, t, kind)) {
                continue;
            }
            let points = if kind == Kind::Negative {
                -weight
            } else {
                weight
            };
            let of = match kind {
                Kind::Synonym => self.synonym_of.get(&(t, server)).cloned(),
                _ => None,
            };
            let term = self.terms[t].text.clone();
            let m = Match {
                of,
                ..Match::new(kind, term, (start, end), points)
            };
            // One word of the prompt is one piece of evidence per server and kind, however many
            // of its terms it is a form of ("fix" of one example and "fixed" of another are two
            // terms: a short word matches as written, a longer one by its stem): the best counts.
            if !shared {
                self.credit(tally, server, None, m);
                continue;
            }
            let entry = self.entry(&mut tally.per, server);
            let place = (server, start, end, kind);
            if let Some(&(i, earlier)) = tally.spans.get(&place) {
                let old = &mut entry.matches[i];
                if m.points.abs() > old.points.abs() {
                    entry.score += m.points - old.points;
                    *old = m;
                    // The term it replaced may still count where it occurs elsewhere.
                    tally.counted.remove(&(server, earlier, kind));
                    tally.spans.insert(place, (i, t));
                } else {
                    tally.counted.remove(&(server, t, kind));
                }
                continue;
            }
            tally.spans.insert(place, (entry.matches.len(), t));
            self.credit(tally, server, None, m);
        }
    }

    /// `m`'s points to `server`'s score (and to its tool `tool`'s, when given), and `m` to its
    /// matches.
    pub(super) fn credit(&self, tally: &mut Tally, server: u32, tool: Option<u32>, m: Match) {
        if let Some(tool) = tool {
            *tally.tool_points.entry((server, tool)).or_default() += m.points;
        }
        let entry = self.entry(&mut tally.per, server);
        entry.score += m.points;
        entry.matches.push(m);
    }

    /// A span that is a thing ([`Implied`]): per server, its best catalog word for the thing,
    /// once (a URL is one thing, however many of "url", "web", "internet" a catalog says), at
    /// [`IMPLIED_FACTOR`] times that word's points.
    pub(super) fn count_implied(
        &self,
        tally: &mut Tally,
        start: usize,
        end: usize,
        terms: &[usize],
    ) {
        let mut best: HashMap<u32, (f64, usize, Option<u32>)> = HashMap::new();
        for &t in terms {
            for &(server, weight, kind, tool) in &self.terms[t].hits {
                if kind != Kind::Catalog {
                    continue;
                }
                let b = best.entry(server).or_insert((0.0, t, tool));
                if weight > b.0 {
                    *b = (weight, t, tool);
                }
            }
        }
        for (server, (weight, t, tool)) in best {
            if !tally.counted.insert((server, t, Kind::Catalog)) {
                continue;
            }
            let points = (weight * IMPLIED_FACTOR * 1000.0).round() / 1000.0;
            let term = self.terms[t].text.clone();
            let m = Match::new(Kind::Catalog, term, (start, end), points);
            self.credit(tally, server, tool, m);
        }
    }
}

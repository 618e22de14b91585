//! Which keyword matches count when they overlap: a phrase wins over the words inside it.

/// The matches no longer match contains: a phrase wins over the words inside it ("pull request"
/// over "request"). Sorted by start, longest first, so one pass decides each: a match is inside a
/// longer one when an earlier-starting match reaches as far, or a same-start one reaches further.
pub fn outermost(mut spans: Vec<(usize, usize, usize)>) -> Vec<(usize, usize, usize)> {
    spans.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    let mut kept = Vec::with_capacity(spans.len());
    let mut reach_before = 0usize; // furthest end of the matches starting before this start
    let mut group = (usize::MAX, 0usize); // (start, furthest end) of the current start's matches
    let mut any_before = false;
    for (start, end, term) in spans {
        if group.0 != start {
            if group.0 != usize::MAX {
                reach_before = reach_before.max(group.1);
                any_before = true;
            }
            group = (start, end);
        }
        let inside_earlier = any_before && reach_before >= end;
        let inside_same_start = group.1 > end;
        if !inside_earlier && !inside_same_start {
            kept.push((start, end, term));
        }
    }
    kept
}

//! Search over item names and keywords, including pinyin initials (`gjj` → 住房公积金提取).

use super::{Catalogue, Item};

impl Catalogue {
    /// Items matching `query`, best matches first; an empty query matches nothing.
    ///
    /// Ranking: exact keyword or code (3) > name or keyword starting with the query (2) >
    /// name or keyword containing it (1); hot items first among equals, then catalogue order.
    /// Matching ignores case and surrounding white space.
    pub fn search(&self, query: &str) -> Vec<&Item> {
        let query = query.trim().to_lowercase();
        if query.is_empty() {
            return Vec::new();
        }
        let mut scored: Vec<(u8, usize, &Item)> = self
            .items
            .iter()
            .enumerate()
            .filter_map(|(order, item)| {
                let score = match_score(item, &query);
                (score > 0).then_some((score, order, item))
            })
            .collect();
        scored.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then(b.2.hot.cmp(&a.2.hot))
                .then(a.1.cmp(&b.1))
        });
        scored.into_iter().map(|(_, _, item)| item).collect()
    }
}

fn match_score(item: &Item, query: &str) -> u8 {
    let names = [item.name.zh.to_lowercase(), item.name.en.to_lowercase()];
    let words = item.keywords.iter().chain(std::iter::once(&item.code));
    let mut best = 0;
    for word in words {
        best = best.max(text_score(word, query, true));
    }
    for name in names.iter().filter(|n| !n.is_empty()) {
        best = best.max(text_score(name, query, false));
    }
    best
}

fn text_score(text: &str, query: &str, exact_counts: bool) -> u8 {
    if exact_counts && text == query {
        3
    } else if text.starts_with(query) {
        2
    } else if text.contains(query) {
        1
    } else {
        0
    }
}

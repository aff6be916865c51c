//! What bulk imports share: sorting the planned rows against what is stored.

use std::collections::HashMap;
use std::hash::Hash;

/// Import rows sorted against the stored rows they name.
pub(crate) struct Sorted<'a, S, I> {
    /// Rows identical to what is stored: nothing to write.
    pub unchanged: usize,
    /// Rows that change a stored row, with that row.
    pub changed: Vec<(&'a S, &'a I)>,
    /// Rows that name nothing stored: to insert.
    pub new: Vec<I>,
}

/// `rows` are (key of the stored row they update, if any; the row); `view`
/// turns a stored row into the form an import row has, for comparison.
pub(crate) fn sort_rows<'a, K, S, I>(
    rows: impl IntoIterator<Item = (Option<K>, &'a I)>,
    current: &'a HashMap<K, S>,
    view: impl Fn(&S) -> I,
) -> Sorted<'a, S, I>
where
    K: Eq + Hash,
    I: PartialEq + Clone + 'a,
{
    let mut sorted = Sorted {
        unchanged: 0,
        changed: Vec::new(),
        new: Vec::new(),
    };
    for (key, row) in rows {
        match key.and_then(|k| current.get(&k)) {
            Some(stored) if view(stored) == *row => sorted.unchanged += 1,
            Some(stored) => sorted.changed.push((stored, row)),
            None => sorted.new.push(row.clone()),
        }
    }
    sorted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_unchanged_changed_and_new() {
        let current = HashMap::from([(1, "a".to_owned()), (2, "b".to_owned())]);
        let rows = ["a".to_owned(), "B".to_owned(), "c".to_owned(), "d".to_owned()];
        let keys = [Some(1), Some(2), None, Some(9)];
        let sorted = sort_rows(keys.into_iter().zip(rows.iter()), &current, |s| s.clone());
        assert_eq!(sorted.unchanged, 1);
        assert_eq!(sorted.changed, vec![(&"b".to_owned(), &"B".to_owned())]);
        assert_eq!(sorted.new, vec!["c".to_owned(), "d".to_owned()]);
    }
}

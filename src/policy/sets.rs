//! The bit sets the compiled policy is made of: record fields and categories, one bit per
//! item at the item's position in its `ALL` list, so that set operations are a few word
//! operations and a `Decision` is plain `Copy` data.

use crate::domain::party::PartyKind;
use crate::domain::record::field::{Category, Field, Owner};
use serde::{Serialize, Serializer};

// Bit positions are the items' positions in `Field::ALL` and `Category::ALL`, which the
// enums' orders match.
const _: () = assert!(Field::ALL.len() <= 64);
const _: () = assert!(Category::ALL.len() <= 8);

/// What both sets share: a word with one bit per `$item`, built, tested and walked the same
/// way.
macro_rules! bit_set {
    ($(#[$meta:meta])* $set:ident($word:ty) of $item:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
        pub struct $set($word);

        impl $set {
            pub const EMPTY: $set = $set(0);
            pub const ALL: $set = $set(<$word>::MAX >> (<$word>::BITS as usize - $item::ALL.len()));

            pub const fn of(item: $item) -> Self {
                Self(1 << item as u32)
            }

            pub const fn contains(self, item: $item) -> bool {
                self.0 & Self::of(item).0 != 0
            }

            pub fn insert(&mut self, item: $item) {
                self.0 |= Self::of(item).0;
            }

            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }

            pub const fn bits(self) -> $word {
                self.0
            }

            /// The items in `ALL` order.
            pub fn iter(self) -> impl Iterator<Item = $item> {
                $item::ALL
                    .iter()
                    .copied()
                    .filter(move |item| self.contains(*item))
            }
        }

        impl FromIterator<$item> for $set {
            fn from_iter<I: IntoIterator<Item = $item>>(iter: I) -> Self {
                let mut set = Self::EMPTY;
                for item in iter {
                    set.insert(item);
                }
                set
            }
        }
    };
}

bit_set! {
    /// A set of record fields, one bit per field.
    FieldSet(u64) of Field
}

impl FieldSet {
    /// Every field of a category.
    pub const fn of_category(category: Category) -> Self {
        let mut bits = 0;
        let mut i = 0;
        while i < Field::ALL.len() {
            if Field::ALL[i].category() as usize == category as usize {
                bits |= 1 << i;
            }
            i += 1;
        }
        Self(bits)
    }

    /// Every field a party of `kind` owns (writes).
    pub const fn owned_by(kind: PartyKind) -> Self {
        let mut bits = 0;
        let mut i = 0;
        while i < Field::ALL.len() {
            if let Owner::Party(owner) = Field::ALL[i].owner()
                && owner as usize == kind as usize
            {
                bits |= 1 << i;
            }
            i += 1;
        }
        Self(bits)
    }

    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    pub const fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    pub const fn difference(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    pub(super) fn insert_all(&mut self, other: FieldSet) {
        self.0 |= other.0;
    }
}

impl Serialize for FieldSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter().map(Field::as_str))
    }
}

bit_set! {
    /// A set of categories, one bit per category: the categories for which an active consent
    /// exists for one (recipient party, purpose), as the caller computes it from consent
    /// records.
    CategorySet(u8) of Category
}

impl CategorySet {
    /// Every field of the categories in the set.
    pub fn fields(self) -> FieldSet {
        self.iter().fold(FieldSet::EMPTY, |set, c| {
            set.union(FieldSet::of_category(c))
        })
    }
}

impl Serialize for CategorySet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_bits_follow_the_order_of_field_all() {
        for (i, field) in Field::ALL.iter().enumerate() {
            assert_eq!(*field as usize, i);
        }
        assert_eq!(FieldSet::ALL.len(), Field::ALL.len());
        assert_eq!(CategorySet::ALL.iter().count(), Category::ALL.len());
    }
}

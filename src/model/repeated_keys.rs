//! A JSON body that names a field twice (`{"amount":"1", …, "amount":"900"}`) is refused:
//! `serde_json`'s map keeps the last value silently, so a body could post an amount other
//! than the one a reviewer read. This walk reads the body once more, as serde hands it over
//! key by key, and answers where a key repeats, at any depth.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// The path of every key that repeats within its object, as the body's errors name fields:
/// `amount`, `schedule[1].amount`, and under `root` (e.g. `schedule` for a body that is a list)
/// `schedule[0].amount`. Empty when none repeats, or when the body is not JSON at all.
pub fn repeated_keys(body: &[u8], root: &str) -> Vec<String> {
    let found = RefCell::new(Vec::new());
    let mut de = serde_json::Deserializer::from_slice(body);
    let walked = Walk { path: root.to_owned(), found: &found }.deserialize(&mut de);
    if walked.is_err() {
        return Vec::new();
    }
    found.into_inner()
}

struct Walk<'a> {
    path: String,
    found: &'a RefCell<Vec<String>>,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<(), A::Error> {
        let mut i = 0;
        while items.next_element_seed(Walk { path: format!("{}[{i}]", self.path), found: self.found })?.is_some() {
            i += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut fields: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = fields.next_key::<String>()? {
            let path = if self.path.is_empty() { key.clone() } else { format!("{}.{key}", self.path) };
            if !seen.insert(key) && !self.found.borrow().contains(&path) {
                self.found.borrow_mut().push(path.clone());
            }
            fields.next_value_seed(Walk { path, found: self.found })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::repeated_keys;

    #[test]
    fn names_each_key_that_repeats_at_any_depth() {
        let body = br#"{"amount":"1","grant":"LDF","amount":"900",
            "schedule":[{"financial_year":"2023-24","amount":"1"},{"amount":"2","amount":"3","amount":"4"}],
            "terms":{"a":{"b":1,"b":2}},"\u0067rant":"X"}"#;
        assert_eq!(repeated_keys(body, ""), ["amount", "schedule[1].amount", "terms.a.b", "grant"]);
        assert_eq!(repeated_keys(br#"[{"due_on":"x","due_on":"y"}]"#, "schedule"), ["schedule[0].due_on"]);
    }

    #[test]
    fn a_key_once_in_each_object_is_no_repeat() {
        let body = br#"{"amount":"1","schedule":[{"amount":"1"},{"amount":"2"}],"nested":{"amount":"3"}}"#;
        assert!(repeated_keys(body, "").is_empty());
        assert!(repeated_keys(b"not json", "").is_empty());
    }
}

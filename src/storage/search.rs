//! The `where` of a searched list, built from the filters given: each condition with its own
//! numbered binds, so a list asks only for what it was given and every value is bound, never
//! spliced (words of a `word_set!` aside, which are their own SQL literals).

use sqlx::Any;
use sqlx::any::AnyArguments;
use sqlx::query::Query;

use super::known::Bind;

#[derive(Default)]
pub(crate) struct Where {
    conditions: Vec<String>,
    binds: Vec<Bind>,
}

impl Where {
    /// Binds `value` and answers its placeholder, for use in any number of conditions.
    pub fn param(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    pub fn text(&mut self, value: impl Into<String>) -> String {
        self.param(Bind::Text(value.into()))
    }

    pub fn int(&mut self, value: i64) -> String {
        self.param(Bind::Int(value))
    }

    pub fn and(&mut self, condition: String) {
        self.conditions.push(condition);
    }

    /// `column op value`, the value bound as text, when one is given: a list's filter.
    pub fn compare(&mut self, column: &str, op: &str, value: Option<impl ToString>) {
        if let Some(v) = value {
            let p = self.text(v.to_string());
            self.and(format!("{column} {op} {p}"));
        }
    }

    /// The same of a whole number.
    pub fn compare_int(&mut self, column: &str, op: &str, value: Option<i64>) {
        if let Some(v) = value {
            let p = self.int(v);
            self.and(format!("{column} {op} {p}"));
        }
    }

    /// `column` contains `text`, case-insensitive, its wildcards matched literally.
    pub fn contains(&mut self, column: &str, text: &str) {
        let p = self.text(crate::model::lists::contains_pattern(text));
        self.and(format!("lower({column}) like {p} escape '\\'"));
    }

    /// The conditions joined, `1 = 1` when there are none.
    pub fn sql(&self) -> String {
        if self.conditions.is_empty() { "1 = 1".to_owned() } else { self.conditions.join(" and ") }
    }

    pub fn bind<'q>(&'q self, query: Query<'q, Any, AnyArguments<'q>>) -> Query<'q, Any, AnyArguments<'q>> {
        Bind::all(&self.binds, query)
    }
}
